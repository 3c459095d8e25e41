"""The controller's latest observations kept for display: rates, error rates, p95, drift.

`ObservationLog.record` is called with every observation the controller loop makes (the
observe sources are wrapped by `tfprod.runtime.dashboard.sources`), so what the dashboard shows
is what the controller decided on, not a second reading. Counters are cumulative; a figure is
the change between the latest observation and the base: the newest kept observation at least
the deployment's `evaluation_window_seconds` older (the window the controller judges over), or
the oldest kept one while the controller has not looked that long. Per series (replica and
version), a counter that went down (a restarted gateway replica) counts from zero, as
Prometheus' `rate` does.

Drift scores are not counters: the latest observation's score per feature (the largest over
the gateway replicas, as the alert rules' `max`) is shown as it is.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tfprod.policy import Policy
from tfprod.runtime.analysis import samples
from tfprod.runtime.analysis.samples import Buckets
from tfprod.runtime.controller.observation import Histogram, Observation

Json = dict[str, Any]

P95 = 0.95
MAX_KEPT = 512
"""Observations kept per deployment at most (at 1 s checks: more than 8 minutes)."""


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    """One feature's drift as the gateways export it."""

    score: float
    """`tfprod_drift_score`: the PSI over the gateway's window."""
    detected: bool | None = None
    """`tfprod_drift_detected`: the test's adjusted p-value below alpha; None if not exported."""


@dataclass(frozen=True, kw_only=True)
class Observed:
    """One observation of a deployment, when it was made, and the drift seen with it."""

    at: datetime
    observation: Observation
    drift: Mapping[str, FeatureDrift] | None = None
    """Feature -> drift; None when the source did not say (it failed, or exports none)."""


class ObservationLog:
    """The recent observations of every deployment, and the figures computed from them."""

    def __init__(self) -> None:
        self._kept: dict[str, deque[Observed]] = defaultdict(lambda: deque(maxlen=MAX_KEPT))

    def record(self, policy: Policy, observed: Observed) -> None:
        """Keeps `observed`; drops what is older than the base the next figures need."""
        kept = self._kept[policy.name]
        kept.append(observed)
        window = policy.controller.evaluation_window_seconds
        while len(kept) > 2 and (observed.at - kept[1].at).total_seconds() >= window:
            kept.popleft()

    def metrics(self, policy: Policy) -> Json:
        """The document of `GET /v1/deployments/{d}/metrics` (docs/controller-api.md)."""
        kept = self._kept.get(policy.name)
        document: Json = {"deployment": policy.name, "versions": [], "drift": None}
        if policy.drift is not None:
            document["drift_threshold"] = policy.drift.threshold
        if not kept:
            return {**document, "missing": "the controller has not observed this deployment yet"}
        latest = kept[-1]
        base = _base(kept, policy.controller.evaluation_window_seconds)
        document.update(
            observed_at=latest.at.isoformat(),
            source_errors=dict(latest.observation.source_errors),
            drift=None
            if latest.drift is None
            else [
                {"feature": name, "score": _finite(value.score), "detected": value.detected}
                for name, value in sorted(latest.drift.items())
            ],
        )
        if base is None:
            return {**document, "missing": "one observation so far: rates need two"}
        seconds = (latest.at - base.at).total_seconds()
        document["window_seconds"] = seconds
        deltas = _deltas(base.observation, latest.observation)
        document["versions"] = [
            _figures(version, deltas[version], seconds)
            for version in (v.id for v in policy.versions)
            if version in deltas
        ]
        return document


def _base(kept: deque[Observed], window: float) -> Observed | None:
    """The newest observation at least `window` seconds before the latest, else the oldest."""
    latest = kept[-1]
    earlier = [item for item in list(kept)[:-1] if item.at < latest.at]
    if not earlier:
        return None
    old_enough = [item for item in earlier if (latest.at - item.at).total_seconds() >= window]
    return old_enough[-1] if old_enough else earlier[0]


@dataclass(kw_only=True)
class _Delta:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] | None = None


def _deltas(base: Observation, latest: Observation) -> dict[str, _Delta]:
    """Version -> the counters' increase from `base` to `latest`, summed over the series."""
    before = base.counters()
    deltas: dict[str, _Delta] = defaultdict(_Delta)
    for key, (version, now) in latest.counters().items():
        then = before.get(key, (version, None))[1]
        reset = then is None or now.requests < then.requests or now.errors < then.errors
        delta = deltas[version]
        delta.requests += now.requests - (0.0 if reset or then is None else then.requests)
        delta.errors += now.errors - (0.0 if reset or then is None else then.errors)
        buckets = _bucket_increase(now.latency, None if reset or then is None else then.latency)
        if buckets is not None:
            total = delta.buckets if delta.buckets is not None else {}
            for bound, count in buckets.items():
                total[bound] = total.get(bound, 0.0) + count
            delta.buckets = total
    return deltas


def _bucket_increase(now: Histogram | None, then: Histogram | None) -> dict[float, float] | None:
    """Cumulative count per bound (+Inf included) gained since `then`; None without latency."""
    if now is None:
        return None
    bounds = (*now.upper_bounds, math.inf)
    counts = dict(zip(bounds, now.cumulative_counts, strict=True))
    if then is not None and then.upper_bounds == now.upper_bounds:
        previous = dict(zip(bounds, then.cumulative_counts, strict=True))
        if all(counts[bound] >= previous[bound] for bound in bounds):
            return {bound: counts[bound] - previous[bound] for bound in bounds}
    return counts


def _figures(version: str, delta: _Delta, seconds: float) -> Json:
    return {
        "version": version,
        "requests": delta.requests,
        "requests_per_second": delta.requests / seconds if seconds > 0 else None,
        "error_rate": delta.errors / delta.requests if delta.requests > 0 else None,
        "p95_latency_seconds": None if delta.buckets is None else quantile(P95, delta.buckets),
    }


def quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """The q-quantile of a cumulative histogram (bound -> count, +Inf included), as the
    controller's checks estimate it (`tfprod.runtime.analysis.samples.quantile`, Prometheus'
    `histogram_quantile`). None without samples."""
    bounds = tuple(sorted(cumulative))
    buckets = Buckets(
        upper_bounds=bounds, cumulative_counts=tuple(cumulative[bound] for bound in bounds)
    )
    if not bounds or buckets.total <= 0:
        return None
    return _finite(samples.quantile(buckets, q))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
