"""Posting controller events to Alertmanager without ever holding up the controller.

`publish` only queues (a bounded queue: when full, the oldest event is dropped and counted);
one background task posts what is queued to `POST /api/v2/alerts`, retrying connection
errors, timeouts and 5xx with capped exponential backoff. What still fails is counted and
logged, never raised: a rollback must not wait on, or fail because of, a notification.
Log lines name Alertmanager by its URL with any credentials removed, and hold neither the
events' text nor Alertmanager's answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from tfprod.runtime.notify.events import ControllerEvent, alert

ALERTS_PATH: Final = "/api/v2/alerts"
BATCH: Final = 64
"""Most alerts in one POST."""

_CREDENTIALS: Final = re.compile(r"(?<=//)[^/@]*@")
"""The `user:password@` of a URL."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    """How hard, and how long, to try delivering to Alertmanager."""

    attempts: int = 5
    """Tries per batch of alerts, the first included. Default: 5."""
    backoff_s: float = 0.2
    """Wait before the first retry; doubled each retry. Default: 0.2 s."""
    max_backoff_s: float = 5.0
    """Longest wait between retries. Default: 5 s."""
    timeout_s: float = 5.0
    """Time limit of one POST. Default: 5 s."""
    queue_size: int = 1000
    """Events waiting to be posted, at most. Default: 1000."""
    hold: timedelta = timedelta(minutes=5)
    """How long an event's alert fires before it resolves (its `endsAt`). Keep it above the
    route's `group_wait`: an alert resolved before its group's first notification is never
    notified at all (Alertmanager sends no resolve for what it never sent). Default: 5 minutes."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.queue_size < 1:
            raise ValueError(
                f"delivery attempts ({self.attempts}) and queue_size ({self.queue_size})"
                " must be at least 1"
            )
        if self.hold <= timedelta(0):
            raise ValueError(f"delivery hold must be positive, not {self.hold}")


DEFAULT_DELIVERY: Final = DeliverySettings()


@dataclass
class DeliveryCounts:
    """What happened to the events published so far."""

    delivered: int = 0
    retries: int = 0
    failed: int = 0
    """Events given up on after every attempt, or refused by Alertmanager (4xx)."""
    dropped: int = 0
    """Events pushed out of a full queue before they were posted."""


@dataclass
class _Worker:
    session: aiohttp.ClientSession
    task: asyncio.Task[None]
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class AlertmanagerNotifier:
    """Posts events to the Alertmanager at `url` (e.g. "http://127.0.0.1:9093").

    Use as `async with AlertmanagerNotifier(...) as notifier:`; leaving the block waits up to
    `drain_s` for queued events, then stops. `generator_url` is where a person sees the
    controller (each alert's `generatorURL`).
    """

    def __init__(
        self,
        url: str,
        *,
        generator_url: str,
        settings: DeliverySettings = DEFAULT_DELIVERY,
        drain_s: float = 5.0,
    ) -> None:
        for name, value in (("alertmanager url", url), ("generator url", generator_url)):
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"{name} {_CREDENTIALS.sub('', value)!r} is not an absolute http(s) URL,"
                    " e.g. http://127.0.0.1:9093"
                )
        self._endpoint = url.rstrip("/") + ALERTS_PATH
        self._shown = redacted(url)
        self._generator_url = generator_url
        self._settings = settings
        self._drain_s = drain_s
        self._queue: asyncio.Queue[ControllerEvent] = asyncio.Queue(settings.queue_size)
        self._worker: _Worker | None = None
        self.counts = DeliveryCounts()

    async def __aenter__(self) -> AlertmanagerNotifier:
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s)
        )
        self._worker = _Worker(session=session, task=asyncio.create_task(self._run()))
        if self._queue.empty():
            self._worker.idle.set()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.drain(self._drain_s)
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.task.cancel()
        await asyncio.gather(worker.task, return_exceptions=True)
        await worker.session.close()
        if not self._queue.empty():
            log.warning(
                "alertmanager at %s: %d events not posted before stopping",
                self._shown,
                self._queue.qsize(),
            )

    def publish(self, event: ControllerEvent) -> None:
        """Queues `event` for posting; returns at once and never raises. Call it from the
        event loop's thread (the queue is an asyncio one)."""
        if self._queue.full():
            self._queue.get_nowait()
            self.counts.dropped += 1
            log.warning("alertmanager at %s: queue full, oldest event dropped", self._shown)
        self._queue.put_nowait(event)
        if self._worker is not None:
            self._worker.idle.clear()

    async def drain(self, timeout_s: float) -> bool:
        """Waits until every queued event was posted or given up on; False after `timeout_s`."""
        if self._worker is None:
            return self._queue.empty()
        try:
            await asyncio.wait_for(self._worker.idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        assert self._worker is not None
        while True:
            if self._queue.empty():
                self._worker.idle.set()
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._post(self._worker.session, batch)

    async def _post(self, session: aiohttp.ClientSession, batch: list[ControllerEvent]) -> None:
        body = [
            alert(event, generator_url=self._generator_url, hold=self._settings.hold)
            for event in batch
        ]
        wait = self._settings.backoff_s
        problem = ""
        for attempt in range(1, self._settings.attempts + 1):
            status, problem = await self._try(session, body)
            if status is not None and status < 300:
                self.counts.delivered += len(batch)
                return
            if status is not None and status < 500:
                break  # refused: retrying sends the same thing
            if attempt < self._settings.attempts:
                self.counts.retries += 1
                await asyncio.sleep(wait)
                wait = min(wait * 2, self._settings.max_backoff_s)
        self.counts.failed += len(batch)
        log.warning(
            "alertmanager at %s: %d events not delivered (%s)", self._shown, len(batch), problem
        )

    async def _try(
        self, session: aiohttp.ClientSession, body: list[dict[str, Any]]
    ) -> tuple[int | None, str]:
        try:
            async with session.post(self._endpoint, json=body) as response:
                return response.status, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return None, type(error).__name__


def redacted(url: str) -> str:
    """`url` without user, password, path or query: what a log line may show of it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{host}{port}", "", "", ""))
