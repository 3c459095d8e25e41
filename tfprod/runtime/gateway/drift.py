"""Drift of each deployment's live traffic, checked inside the gateway, off the request path.

Every 200 answer of a deployment with a drift monitor hands its request and answer bodies to
`DriftMonitors.offer`, which only appends them to a bounded queue (`pending`, default 10,000
exchanges between two checks; more are dropped and counted). Every `interval_seconds`
(default 10) a background task parses the queued bodies into rows (`tfprod.runtime.drift.
records`), adds them to each deployment's input and output windows (the Policy's
`drift.window_seconds`, at most `capacity` rows each) and checks both windows against the
reference profile read at start. So the work per check is bounded by `pending` and
`capacity`, and a request never waits on drift.

Exported on the gateway's `/metrics` (Prometheus adds `namespace` from the scrape):

- `tfprod_drift_score{deployment, feature}`: the feature's PSI over the window, what the
  alert rules' `tfprod:drift_score:max` and the controller's `drift_score` triggers read;
  predictions appear as features `output:<column>` (output drift);
- `tfprod_drift_overall_score{deployment, stream}`: the largest score of `input` or `output`;
- `tfprod_drift_adjusted_p_value{deployment, feature}` and `tfprod_drift_detected{...}`: the
  KS or chi-squared test's Holm-adjusted p-value, and 1 where it is below `alpha`;
- `tfprod_drift_window_rows{deployment, stream}`, `tfprod_drift_records_total{deployment,
  outcome}` (`read`, `unreadable`, `dropped`), and `tfprod_drift_reference_loaded{deployment}`
  (0 when the profile could not be read: then that deployment exports no scores).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tfprod.policy import CONFIGMAP_KEY, Policy, read_policy
from tfprod.runtime.drift.check import DEFAULT_ALPHA, DriftReference, DriftReport
from tfprod.runtime.drift.records import answer_rows, request_rows
from tfprod.runtime.drift.source import load_profile
from tfprod.runtime.drift.window import DEFAULT_CAPACITY, Window
from tfprod.runtime.gateway.metrics import Counter, Gauge
from tfprod.runtime.registry import ReferenceProfile

_log = logging.getLogger(__name__)

OUTPUT_PREFIX = "output:"
DEFAULT_INTERVAL_SECONDS = 10.0
DEFAULT_PENDING = 10_000


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One answered request of a monitored deployment, waiting to be read."""

    deployment: str
    unix_time: float
    request: bytes
    answer: bytes


class DriftMonitor:
    """The windows and references of one deployment (outputs only if the profile has them)."""

    def __init__(
        self,
        deployment: str,
        profile: ReferenceProfile,
        *,
        window_seconds: float,
        alpha: float = DEFAULT_ALPHA,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.deployment = deployment
        self.inputs = DriftReference(profile.features, alpha=alpha)
        self.input_window = Window(
            len(self.inputs.names), seconds=window_seconds, capacity=capacity
        )
        self.outputs = DriftReference(profile.outputs, alpha=alpha) if profile.outputs else None
        self.output_window = (
            None
            if self.outputs is None
            else Window(len(self.outputs.names), seconds=window_seconds, capacity=capacity)
        )

    def feed(self, exchange: Exchange) -> bool:
        """Adds the exchange's rows to the windows; False when its request has none readable."""
        rows = request_rows(
            exchange.request.decode("utf-8", "replace"),
            self.inputs.names,
            self.inputs.encode,
            numeric=self.inputs.numeric,
        )
        if rows is None:
            return False
        self.input_window.add(rows, exchange.unix_time)
        if self.outputs is not None and self.output_window is not None:
            answers = answer_rows(
                exchange.answer.decode("utf-8", "replace"), self.outputs.names, self.outputs.encode
            )
            if answers is not None:
                self.output_window.add(answers, exchange.unix_time)
        return True

    def check(self, now: float) -> tuple[DriftReport, DriftReport | None]:
        """Checks the input window, and the output window where there is one."""
        inputs = self.inputs.check(self.input_window.snapshot(now))
        if self.outputs is None or self.output_window is None:
            return inputs, None
        return inputs, self.outputs.check(self.output_window.snapshot(now))


class DriftMonitors:
    """The gateway's drift monitors, their queue of exchanges and their metrics."""

    def __init__(
        self,
        monitors: Mapping[str, DriftMonitor],
        *,
        unloaded: Iterable[str] = (),
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        pending: int = DEFAULT_PENDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.monitors = dict(monitors)
        self.interval_seconds = interval_seconds
        self.pending: deque[Exchange] = deque()
        self.limit = pending
        self.clock = clock
        self.task: asyncio.Task[None] | None = None
        self.score = Gauge(
            "tfprod_drift_score",
            "Population stability index of a feature over the drift window (outputs:"
            " output:<column>).",
            ("deployment", "feature"),
        )
        self.overall = Gauge(
            "tfprod_drift_overall_score",
            "Largest drift score of the deployment's inputs or outputs.",
            ("deployment", "stream"),
        )
        self.adjusted_p = Gauge(
            "tfprod_drift_adjusted_p_value",
            "Holm-adjusted p-value of the feature's KS (numeric) or chi-squared (categorical)"
            " test.",
            ("deployment", "feature"),
        )
        self.detected = Gauge(
            "tfprod_drift_detected",
            "1 where the feature's adjusted p-value is below the monitor's alpha, else 0.",
            ("deployment", "feature"),
        )
        self.window_rows = Gauge(
            "tfprod_drift_window_rows",
            "Rows in the drift window at the last check.",
            ("deployment", "stream"),
        )
        self.records = Counter(
            "tfprod_drift_records_total",
            "Answered requests handed to drift: read, unreadable (no rows), dropped (queue full).",
            ("deployment", "outcome"),
        )
        self.loaded = Gauge(
            "tfprod_drift_reference_loaded",
            "1 when the deployment's reference profile was read at start, else 0.",
            ("deployment",),
        )
        for name in self.monitors:
            self.loaded.set((name,), 1.0)
        for name in unloaded:
            self.loaded.set((name,), 0.0)

    def offer(self, deployment: str, request: bytes, answer: bytes) -> None:
        """Queues one answered request of `deployment` (nothing if it has no monitor)."""
        if deployment not in self.monitors:
            return
        if len(self.pending) >= self.limit:
            self.records.inc((deployment, "dropped"))
            return
        self.pending.append(
            Exchange(deployment=deployment, unix_time=self.clock(), request=request, answer=answer)
        )

    def run_once(self) -> None:
        """Reads the queued exchanges and checks every monitor, updating the metrics."""
        while self.pending:
            exchange = self.pending.popleft()
            read = self.monitors[exchange.deployment].feed(exchange)
            self.records.inc((exchange.deployment, "read" if read else "unreadable"))
        now = self.clock()
        for name, monitor in self.monitors.items():
            inputs, outputs = monitor.check(now)
            self._export(name, "input", inputs, "")
            if outputs is not None:
                self._export(name, "output", outputs, OUTPUT_PREFIX)

    def _export(self, deployment: str, stream: str, report: DriftReport, prefix: str) -> None:
        self.window_rows.set(
            (deployment, stream), max((f.rows for f in report.features), default=0)
        )
        self.overall.set((deployment, stream), report.score)
        for feature in report.features:
            labels = (deployment, prefix + feature.name)
            self.score.set(labels, feature.psi)
            self.adjusted_p.set(labels, feature.adjusted_p)
            self.detected.set(labels, float(feature.drifted))

    async def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                self.run_once()
            except Exception:  # a bad check must not stop the next ones
                _log.exception("drift check failed")

    def render(self) -> str:
        metrics = (
            self.score, self.overall, self.adjusted_p, self.detected, self.window_rows,
            self.records, self.loaded,
        )  # fmt: skip
        return "\n".join(line for metric in metrics for line in metric.render()) + "\n"


def monitors_for(
    policies: Iterable[Policy],
    *,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    read: Callable[[str], ReferenceProfile] = load_profile,
) -> DriftMonitors | None:
    """Monitors of the policies with a drift section, each profile read from its
    `reference_uri` now; a profile that cannot be read is logged and that deployment left
    unmonitored (its `tfprod_drift_reference_loaded` is 0). None when no policy has drift."""
    monitors: dict[str, DriftMonitor] = {}
    unloaded: list[str] = []
    watched = [policy for policy in policies if policy.drift is not None]
    if not watched:
        return None
    for policy in watched:
        assert policy.drift is not None
        try:
            profile = read(policy.drift.reference_uri)
            monitors[policy.name] = DriftMonitor(
                policy.name, profile, window_seconds=policy.drift.window_seconds
            )
        except Exception as error:  # any store or format failure: say which and go on
            _log.warning(
                "drift of %s is not monitored: reference profile %s: %s",
                policy.name, policy.drift.reference_uri, error,
            )  # fmt: skip
            unloaded.append(policy.name)
    return DriftMonitors(monitors, unloaded=unloaded, interval_seconds=interval_seconds)


def mounted_policies(directory: Path) -> list[Policy]:
    """The policies of `<directory>/<deployment>/policy.json`."""
    return [
        read_policy(path / CONFIGMAP_KEY) for path in sorted(directory.glob("*")) if path.is_dir()
    ]
