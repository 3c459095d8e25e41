"""A per-upstream circuit breaker: closed, open for a while, then one trial request.

Failures are connection errors, timeouts and 5xx answers; 4xx answers are the caller's fault
and count as successes. The clock is injected so tests run without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Breaker:
    """Opens after `threshold` consecutive failures; after `open_seconds` lets one trial
    request through (half-open): its success closes the breaker, its failure re-opens it."""

    def __init__(
        self, *, threshold: int, open_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.open_seconds = open_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_in_flight = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at < self.open_seconds:
            return "open"
        return "half-open"

    def allow(self) -> bool:
        """Whether a request may go to this upstream now (claims the trial when half-open)."""
        if self.opened_at is None:
            return True
        if self.trial_in_flight or self.clock() - self.opened_at < self.open_seconds:
            return False
        self.trial_in_flight = True
        return True

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_in_flight = False

    def failure(self) -> None:
        self.failures += 1
        if self.trial_in_flight or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.trial_in_flight = False
