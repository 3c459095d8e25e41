"""The live rows a drift check looks at: the last `rows` rows (a window by count) or the rows
of the last `seconds` (a window by time), kept in a preallocated ring of at most `capacity`
rows (the oldest are overwritten and counted as `overwritten`), so memory stays bounded
whatever the traffic."""

from __future__ import annotations

from typing import Any

import numpy as np

from tfprod.policy import parse_duration
from tfprod.runtime.drift.stats import Array

DEFAULT_CAPACITY = 100_000


class Window:
    """Rows of `features` values; exactly one of `rows` and `seconds` (or a duration such as
    "1h") says which rows a snapshot holds. `capacity` (default 100,000, and at least `rows`)
    bounds the rows kept."""

    def __init__(
        self,
        features: int,
        *,
        rows: int | None = None,
        seconds: float | str | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        if (rows is None) == (seconds is None):
            raise ValueError("a window is by count (rows) or by time (seconds): give one")
        if rows is not None and not 1 <= rows <= capacity:
            raise ValueError(f"rows must lie in [1, capacity={capacity}], got {rows}")
        self.rows = rows
        self.seconds = parse_duration(seconds) if isinstance(seconds, str) else seconds
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError(f"seconds must be greater than 0, got {seconds}")
        self.capacity = capacity
        self.values = np.full((features, capacity), np.nan)
        self.times = np.full(capacity, -np.inf)
        self.written = 0
        """Rows ever added; the next one goes to `written % capacity`."""

    @property
    def overwritten(self) -> int:
        return max(0, self.written - self.capacity)

    def add(self, values: np.ndarray[Any, Any], unix_time: float) -> None:
        """Appends `values` (rows x features) seen at `unix_time`."""
        given = np.asarray(values, dtype="float64")
        block = given[-self.capacity :]
        count = block.shape[0]
        start = (self.written + given.shape[0] - count) % self.capacity  # rows cut: skipped
        first = min(count, self.capacity - start)
        self.values[:, start : start + first] = block[:first].T
        self.values[:, : count - first] = block[first:].T
        self.times[start : start + first] = unix_time
        self.times[: count - first] = unix_time
        self.written += given.shape[0]

    def snapshot(self, now: float) -> Array:
        """The window's rows (features x rows), oldest first."""
        kept = min(self.written, self.capacity)
        start = (self.written - kept) % self.capacity
        order = (start + np.arange(kept)) % self.capacity
        if self.rows is not None:
            order = order[-self.rows :]
        else:
            assert self.seconds is not None
            order = order[self.times[order] >= now - self.seconds]
        result: Array = self.values[:, order]
        return result
