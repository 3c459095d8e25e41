"""Capture sampling: a bounded queue of request/response pairs for drift and explanations.

Offering a record never blocks and never waits: when the queue is full the record is dropped
and counted. Consumers drain it (the admin API does, in batches) or `await queue.get()`.

Privacy, applied before a record is queued (nothing unredacted is ever held):

- redaction: each route names fields to `drop` or `hash` (the Policy's
  `debugger.capture_redact`). A field is a JSON object member of that name at any depth of the
  request or response body (a TF Serving input name in `instances` rows or the `inputs`
  object, or any nested member). `hash` replaces the value with `hmac-sha256:<hex>` of its
  canonical JSON, keyed by a key derived from the gateway's feedback-signing key, so replicas
  sharing that key hash one value alike (joins stay possible) and the value cannot be looked up
  by hashing guesses without the key. A body that is not JSON cannot be redacted: when a route
  redacts anything, such a record is not kept and is counted apart.
- retention: every record carries `expires_unix_time` (captured time plus the route's
  retention, the Policy's `debugger.capture_retention`, default 1 day). The queue never hands
  out an expired record: draining skips and counts them, and a full queue first discards its
  expired records. Whoever drains records must delete them by that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Redaction = Literal["drop", "hash"]
REDACTIONS: tuple[Redaction, ...] = ("drop", "hash")
HASH_PREFIX = "hmac-sha256:"
_KEY_LABEL = b"tfprod capture redaction"


@dataclass(frozen=True, kw_only=True)
class CaptureRecord:
    """One sampled exchange; `request` and `response` are the JSON bodies as text (redacted
    when the route redacts), kept until `expires_unix_time`."""

    request_id: str
    model: str
    variant: str
    status: int
    unix_time: float
    expires_unix_time: float
    request: str
    response: str

    def to_json(self) -> dict[str, object]:
        record = asdict(self)
        for key in ("request", "response"):
            with contextlib.suppress(ValueError):  # keep non-JSON bodies as text
                record[key] = json.loads(record[key])
        return record


class Redactor:
    """Drops or hashes named JSON members; `key` is the gateway's feedback-signing key."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(hmac.digest(key, _KEY_LABEL, "sha256"), digestmod=hashlib.sha256)

    def digest(self, value: Any) -> str:
        """`hmac-sha256:<hex>` of `value`'s canonical JSON (sorted keys, no spaces)."""
        mac = self._keyed.copy()
        mac.update(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())
        return f"{HASH_PREFIX}{mac.hexdigest()}"

    def redact(self, value: Any, rules: Mapping[str, Redaction]) -> Any:
        """`value` with every object member named in `rules` dropped or hashed, at any depth."""
        if isinstance(value, list):
            return [self.redact(item, rules) for item in value]
        if not isinstance(value, dict):
            return value
        result: dict[str, Any] = {}
        for name, item in value.items():
            rule = rules.get(name)
            if rule == "drop":
                continue
            result[name] = self.digest(item) if rule == "hash" else self.redact(item, rules)
        return result

    def redact_text(self, text: str, rules: Mapping[str, Redaction]) -> str | None:
        """The JSON text `text` redacted by `rules` (as is when there are none), or None when
        rules apply and `text` is not JSON."""
        if not rules:
            return text
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return json.dumps(self.redact(document, rules), separators=(",", ":"))


class CaptureQueue:
    """A bounded FIFO of `CaptureRecord`s that drops (and counts) rather than blocks, and never
    hands out a record past its `expires_unix_time`."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[CaptureRecord] = asyncio.Queue(maxsize=size)
        self.dropped = 0
        self.expired = 0
        self.on_expired: Callable[[CaptureRecord], None] = lambda record: None
        """Called once for each record discarded because it expired."""

    def offer(self, record: CaptureRecord) -> bool:
        """Queues `record` if there is room (after discarding expired records when full);
        returns whether it was kept."""
        if self.queue.full():
            self._discard_expired()
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def drain(self, limit: int) -> list[CaptureRecord]:
        """Takes up to `limit` unexpired queued records, oldest first, without waiting."""
        records: list[CaptureRecord] = []
        now = time.time()
        while len(records) < limit and not self.queue.empty():
            record = self.queue.get_nowait()
            if record.expires_unix_time <= now:
                self._expire(record)
            else:
                records.append(record)
        return records

    def _discard_expired(self) -> None:
        now = time.time()
        kept = []
        while not self.queue.empty():
            record = self.queue.get_nowait()
            if record.expires_unix_time <= now:
                self._expire(record)
            else:
                kept.append(record)
        for record in kept:
            self.queue.put_nowait(record)

    def _expire(self, record: CaptureRecord) -> None:
        self.expired += 1
        self.on_expired(record)
