"""The controller's observe sources, wrapped so every observation is also kept for display.

The wrapped `observe` hands the loop exactly what the source gave; it also records the
observation, with the deployment's drift scores, in an `ObservationLog`. Drift comes from
where the counters come from: with the direct source, the same `/metrics` reads (no second
request); with Prometheus, two more instant queries per check, `max by (feature)` of the
gateways' `tfprod_drift_score` and `tfprod_drift_detected` of the deployment. A deployment
whose Policy declares no drift monitor records no drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from tfprod.policy import Policy
from tfprod.runtime.controller.loop import Observe
from tfprod.runtime.controller.observation import Observation
from tfprod.runtime.dashboard.observed import FeatureDrift, ObservationLog, Observed
from tfprod.runtime.observe import GatewayScrapeSource, PrometheusError, PrometheusSource, Sample
from tfprod.runtime.observe.gateways import observation

DRIFT_SCORE = "tfprod_drift_score"
DRIFT_DETECTED = "tfprod_drift_detected"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def drift_of(samples: Iterable[Sample], deployment: str) -> dict[str, FeatureDrift]:
    """Feature -> its drift in gateway samples of `deployment`: the largest score (and
    detected if any replica detects it) over the replicas the samples come from."""
    scores: dict[str, float] = {}
    detected: dict[str, bool] = {}
    for sample in samples:
        if sample.labels.get("deployment") != deployment or "feature" not in sample.labels:
            continue
        feature = sample.labels["feature"]
        if sample.name == DRIFT_SCORE:
            scores[feature] = max(scores.get(feature, sample.value), sample.value)
        elif sample.name == DRIFT_DETECTED:
            detected[feature] = detected.get(feature, False) or sample.value == 1
    return {
        feature: FeatureDrift(score=score, detected=detected.get(feature))
        for feature, score in scores.items()
    }


def recorded_gateways(
    source: GatewayScrapeSource,
    log: ObservationLog,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> Observe:
    """`source.observe`, recording each observation and the drift in the same reads."""

    async def observe(policy: Policy) -> Observation:
        scrapes = await source.scrape()
        seen = observation(policy, scrapes)
        drift = None
        if policy.drift is not None:
            samples = (sample for scrape in scrapes for sample in scrape.samples)
            drift = drift_of(samples, policy.name)
        log.record(policy, Observed(at=clock(), observation=seen, drift=drift))
        return seen

    return observe


def recorded_prometheus(
    source: PrometheusSource,
    log: ObservationLog,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> Observe:
    """`source.observe`, recording each observation and the drift Prometheus has."""

    async def observe(policy: Policy) -> Observation:
        seen = await source.observe(policy)
        drift = None
        if policy.drift is not None:
            drift = await _prometheus_drift(source, policy)
        log.record(policy, Observed(at=clock(), observation=seen, drift=drift))
        return seen

    return observe


async def _prometheus_drift(
    source: PrometheusSource, policy: Policy
) -> dict[str, FeatureDrift] | None:
    """The deployment's drift per feature; None when Prometheus did not answer."""
    scope = (
        f"job={json.dumps(source.job)}, namespace={json.dumps(policy.namespace)},"
        f" deployment={json.dumps(policy.name)}"
    )
    samples: list[Sample] = []
    try:
        for name in (DRIFT_SCORE, DRIFT_DETECTED):
            for labels, value in await source.query(f"max by (feature) ({name}{{{scope}}})"):
                samples.append(
                    Sample(name=name, labels={**labels, "deployment": policy.name}, value=value)
                )
    except PrometheusError:
        return None
    return drift_of(samples, policy.name)
