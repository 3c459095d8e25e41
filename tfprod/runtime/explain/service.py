"""The explainer's work: explain requests and captured samples, one at a time, off the request
path, with bounded queues and results.

- Explanations run on one worker thread, so the explainer never uses more than one core for
  them; an explain request waits for it, and more than `max_waiting` waiting requests are
  refused (503).
- Captured samples (the gateway posts each one it captured, at the Policy's `capture_rate`)
  wait in a queue of `queue_size` (default 100); a sample arriving when it is full is dropped
  and counted (`tfprod_explain_queue_dropped_total`). Each sample's first row is explained
  with every method of the Policy's `debugger.explainers`; its rows (at most
  `MAX_INSTANCES`) are kept as background rows until the sample's `expires_unix_time`.
- The newest `results` explanations (default 100) are kept per deployment, newest first.

Metrics (`GET /metrics`): `tfprod_explanations_total{deployment, method, outcome}` with
outcome `ok`, `invalid` (a request's bad input), `unreadable` (a captured sample without
rows the model takes) or `error` (the method failed on the model); and
`tfprod_explain_queue_dropped_total{deployment}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tfprod.runtime.explain.deployments import Deployment, ServedVersion
from tfprod.runtime.explain.inputs import MAX_INSTANCES, InputError, read_rows
from tfprod.runtime.explain.methods import Explanation, explain_rows
from tfprod.runtime.explain.model import Array
from tfprod.runtime.gateway.metrics import Counter

_log = logging.getLogger(__name__)
DEFAULT_QUEUE_SIZE = 100
DEFAULT_RESULTS = 100
DEFAULT_MAX_WAITING = 8


class BusyError(RuntimeError):
    """Too many explain requests are waiting for the worker."""


class ExplainerService:
    def __init__(
        self,
        deployments: Mapping[str, Deployment],
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        results: int = DEFAULT_RESULTS,
        max_waiting: int = DEFAULT_MAX_WAITING,
    ) -> None:
        self.deployments = dict(deployments)
        self.results_bound = results
        self.results: dict[str, deque[dict[str, Any]]] = {
            name: deque(maxlen=results) for name in self.deployments
        }
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self.max_waiting = max_waiting
        self.waiting = 0
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tfprod-explain")
        self.task: asyncio.Task[None] | None = None
        self.explanations = Counter(
            "tfprod_explanations_total",
            "Explanations by method and outcome: ok, invalid (bad request input), unreadable"
            " (captured sample without rows the model takes), error (the method failed).",
            ("deployment", "method", "outcome"),
        )
        self.dropped = Counter(
            "tfprod_explain_queue_dropped_total",
            "Captured samples dropped because the explain queue was full.",
            ("deployment",),
        )

    async def explain(
        self, deployment: Deployment, version: ServedVersion, instances: Any, method: str
    ) -> list[Explanation]:
        """Explains a request's instances (InputError on bad input, BusyError when too many
        requests wait)."""
        try:
            rows = read_rows(instances, version.model)
        except InputError:
            self.explanations.inc((deployment.name, method, "invalid"))
            raise
        if self.waiting >= self.max_waiting:
            raise BusyError(f"{self.waiting} explain requests are waiting; try again later")
        self.waiting += 1
        try:
            return await self._run(deployment, version, rows, method, "request")
        finally:
            self.waiting -= 1

    async def _run(
        self, deployment: Deployment, version: ServedVersion, rows: Array, method: str, source: str
    ) -> list[Explanation]:
        background = deployment.background(version)
        loop = asyncio.get_running_loop()
        try:
            explained = await loop.run_in_executor(
                self.executor,
                lambda: explain_rows(version.model, rows, method, background, version=version.id),
            )
        except Exception:
            self.explanations.inc((deployment.name, method, "error"))
            raise
        now = time.time()
        kept = self.results[deployment.name]
        for explanation in explained:
            kept.appendleft({**explanation.to_json(), "unix_time": now, "source": source})
            self.explanations.inc((deployment.name, method, "ok"))
        return explained

    def recent(self, deployment: str, limit: int) -> list[dict[str, Any]]:
        return list(self.results[deployment])[:limit]

    def offer(self, record: Any) -> bool:
        """Queues a captured sample (a capture record's JSON); False when dropped."""
        model = record.get("model") if isinstance(record, dict) else None
        if not isinstance(model, str) or model not in self.deployments:
            return False
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped.inc((model,))
            return False
        return True

    async def start(self) -> None:
        self.task = asyncio.create_task(self._consume())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def _consume(self) -> None:
        while True:
            record = await self.queue.get()
            try:
                await self._explain_captured(record)
            except Exception:  # a failing sample must not stop the next ones
                _log.exception("explaining a captured sample failed")

    async def _explain_captured(self, record: dict[str, Any]) -> None:
        deployment = self.deployments[record["model"]]
        assert deployment.policy.debugger is not None  # only explained deployments load
        methods = deployment.policy.debugger.explainers
        variant = str(record.get("variant", ""))
        version = deployment.versions.get(variant.removesuffix("-fallback"))
        if version is None:
            version = deployment.resolve(None, None)
        request = record.get("request")
        if isinstance(request, str):
            with contextlib.suppress(ValueError):
                request = json.loads(request)
        try:
            instances = request.get("instances") if isinstance(request, dict) else None
            rows = read_rows(
                instances[:MAX_INSTANCES] if isinstance(instances, list) else instances,
                version.model,
            )
        except InputError:
            for method in methods:
                self.explanations.inc((deployment.name, method, "unreadable"))
            return
        expires = record.get("expires_unix_time")
        if isinstance(expires, int | float):
            deployment.remember(rows, float(expires))
        for method in methods:
            try:
                await self._run(deployment, version, rows[:1], method, "capture")
            except Exception as error:  # counted as an error; the other methods still run
                _log.warning(
                    "%s of a captured %s sample failed: %s", method, deployment.name, error
                )

    def render(self) -> str:
        lines = [*self.explanations.render(), *self.dropped.render()]
        return "\n".join(lines) + "\n"
