"""Flagger's fixed-window threshold analysis, replayed on a recorded per-second metric stream.

Flagger's canary analysis (its code's defaults: `interval` 60 s, `threshold` 1, metric queries
over a 1-minute window; 10 s is the shortest interval its docs suggest) runs every `interval`:
each metric query is evaluated over the last `window` seconds (the request success rate, the
request duration quantile), a check fails when a metric is past its threshold, and the canary
is rolled back once `threshold` checks have failed (Flagger counts failed checks, not only
consecutive ones). Replayed here on the canary's own per-second counters, as the gateways
exported them during a run, with no scrape delay and no actuation time: both favour Flagger.
A latency check can be relative to the stable version (`Analysis.relative`, a custom metric
template comparing canary and primary), as a loaded machine slows both alike.

The recorded stream is short (tfprod rolled the canary back within seconds), so the replay
continues it: before its first second with its healthy seconds (those before the onset) and
after its last faulty second with the faulty ones (from the onset on), both cycled. Flagger's
check schedule has no relation to the onset: `replay` takes `delay`, the seconds from the
onset to the first check at or after it, and `detection_times` gives the result for every
whole-second delay in [0, interval).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from tfprod.runtime.analysis import Buckets, quantile


@dataclass(frozen=True, kw_only=True)
class Second:
    """One second of one version's traffic: requests, failed ones, latency per bucket."""

    requests: float
    errors: float
    buckets: tuple[float, ...]
    """Per-bucket (not cumulative) counts, one per bound of the stream, +Inf last."""


@dataclass(frozen=True, kw_only=True)
class Stream:
    """A version's seconds, the fault's onset (an index into them) and the latency bounds."""

    seconds: tuple[Second, ...]
    onset: int
    """Index of the first faulty second; the seconds before it are healthy."""
    upper_bounds: tuple[float, ...]
    """Latency bucket bounds, seconds, +Inf last."""
    reference: tuple[Second, ...] = ()
    """The stable version's seconds at the same times (for a latency check relative to it)."""

    def at(self, index: int, *, reference: bool = False) -> Second:
        """Second `index`, the stream continued both ways as the module doc says."""
        seconds = self.reference if reference else self.seconds
        healthy, faulty = seconds[: self.onset], seconds[self.onset :]
        if index < 0:
            return healthy[index % len(healthy)] if healthy else faulty[0]
        if index < len(seconds):
            return seconds[index]
        return faulty[(index - self.onset) % len(faulty)]


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """Flagger's settings and the metric thresholds of the canary analysis."""

    interval: int = 60
    threshold: int = 1
    window: int = 60
    max_error_rate: float | None = None
    """Fail when errors / requests over the window exceed this (request-success-rate min)."""
    latency_level: float = 0.99
    max_latency: float | None = None
    """Fail when the latency quantile over the window exceeds this, seconds."""
    relative: bool = False
    """`max_latency` bounds the canary's quantile minus the stable version's (a custom metric
    template comparing canary and primary), not the canary's own."""


def failed(stream: Stream, analysis: Analysis, check: int) -> bool:
    """Whether the check at second `check` fails: the window is seconds [check - window, check)."""
    seconds = [stream.at(index) for index in range(check - analysis.window, check)]
    requests = sum(second.requests for second in seconds)
    if requests == 0:
        return True  # Flagger halts on "no values found", counted as a failed check
    errors = sum(second.errors for second in seconds)
    if analysis.max_error_rate is not None and errors / requests > analysis.max_error_rate:
        return True
    if analysis.max_latency is None:
        return False
    value = _quantile(stream, seconds, analysis.latency_level)
    if analysis.relative:
        window = range(check - analysis.window, check)
        stable = [stream.at(index, reference=True) for index in window]
        value -= _quantile(stream, stable, analysis.latency_level)
    return not math.isnan(value) and value > analysis.max_latency


def _quantile(stream: Stream, seconds: list[Second], level: float) -> float:
    counts = [sum(column) for column in zip(*(second.buckets for second in seconds), strict=True)]
    cumulative = tuple(float(value) for value in itertools.accumulate(counts))
    return quantile(Buckets(upper_bounds=stream.upper_bounds, cumulative_counts=cumulative), level)


def replay(stream: Stream, analysis: Analysis, *, delay: int, horizon: int = 3600) -> int | None:
    """Seconds from the onset to Flagger's rollback, its first check `delay` s after the onset;
    None if it does not roll back within `horizon` seconds."""
    failures = 0
    check = stream.onset + delay
    while check - stream.onset <= horizon:
        if failed(stream, analysis, check):
            failures += 1
            if failures >= analysis.threshold:
                return check - stream.onset
        check += analysis.interval
    return None


def detection_times(stream: Stream, analysis: Analysis) -> list[int | None]:
    """`replay` for every whole-second delay of the first check in [0, interval)."""
    return [replay(stream, analysis, delay=delay) for delay in range(analysis.interval)]
