"""Capture sampling: a bounded queue of request/response pairs for drift and explanations.

Offering a record never blocks and never waits: when the queue is full the record is dropped
and counted. Consumers drain it (the admin API does, in batches) or `await queue.get()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class CaptureRecord:
    """One sampled exchange; `request` and `response` are the JSON bodies as text."""

    request_id: str
    model: str
    variant: str
    status: int
    unix_time: float
    request: str
    response: str

    def to_json(self) -> dict[str, object]:
        record = asdict(self)
        for key in ("request", "response"):
            with contextlib.suppress(ValueError):  # keep non-JSON bodies as text
                record[key] = json.loads(record[key])
        return record


class CaptureQueue:
    """A bounded FIFO of `CaptureRecord`s that drops (and counts) rather than blocks."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[CaptureRecord] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, record: CaptureRecord) -> bool:
        """Queues `record` if there is room; returns whether it was kept."""
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def drain(self, limit: int) -> list[CaptureRecord]:
        """Takes up to `limit` queued records, oldest first, without waiting."""
        records: list[CaptureRecord] = []
        while len(records) < limit and not self.queue.empty():
            records.append(self.queue.get_nowait())
        return records
