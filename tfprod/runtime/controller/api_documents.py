"""The JSON documents the controller API answers with, built from a Policy and its status.

Pure: the time is an argument. A deployment without a status document yet shows its declared
weights at generation 0 and no rollout.

A check's last value is stated in its `reason` (e.g. "error_rate 0.3% in the last 60 s: not
error_rate > 5%"): the rollout state keeps each check's outcome and reason, not a separate
number.

A/B results come from the running tests the rollout state keeps (one mSPRT per success
metric): each metric is looked at once more, with `tfprod.runtime.analysis.analyse`, on the
totals its test last saw and at the time of its last look, which gives back the controller's
last result for that metric (effect, interval, significance, samples, decision, winner)
without changing the persisted state. A metric whose test has seen no totals yet is shown
inconclusive ("no data at this look").
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from tfprod.policy import DeploymentStatus, Policy
from tfprod.policy.rollout_state import CheckState, RolloutState
from tfprod.runtime.analysis import ABState, Arms, MetricResult, analyse
from tfprod.runtime.controller.decide import AB_CHECK

Json = dict[str, Any]


def _weights(policy: Policy, status: DeploymentStatus | None) -> dict[str, float]:
    return dict(status.weights) if status is not None else dict(policy.traffic.weights)


def _rollout(status: DeploymentStatus | None) -> RolloutState:
    return status.rollout if status is not None else RolloutState()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def summary(deployment: str, policy: Policy, status: DeploymentStatus | None) -> Json:
    """One line of `GET /v1/deployments`: phase, weights, step, generation."""
    rollout = _rollout(status)
    return {
        "deployment": deployment,
        "phase": rollout.phase,
        "weights": _weights(policy, status),
        "step": rollout.step_index,
        "generation": 0 if status is None else status.generation,
    }


def step(policy: Policy, rollout: RolloutState, now: datetime) -> Json | None:
    """The canary ramp step: index, its percent, time in it and (at the earliest) to the next.

    Time in step stops while paused (a pause holds the ramp). `seconds_to_next_step` is what
    is left of the step's hold while progressing, None in any other phase: the step also
    waits for every gate to pass. After the last step comes promotion (100%).
    """
    canary = policy.canary
    if canary is None or rollout.step_index is None or rollout.step_started_at is None:
        return None
    index = min(rollout.step_index, len(canary.steps) - 1)
    current = canary.steps[index]
    until = rollout.paused_at if rollout.phase == "paused" and rollout.paused_at else now
    in_step = max(0.0, (until - rollout.step_started_at).total_seconds())
    last = index == len(canary.steps) - 1
    return {
        "index": index,
        "steps": len(canary.steps),
        "version": canary.version,
        "percent": current.percent,
        "hold_seconds": current.hold_seconds,
        "seconds_in_step": in_step,
        "seconds_to_next_step": max(0.0, current.hold_seconds - in_step)
        if rollout.phase == "progressing"
        else None,
        "next_percent": 100.0 if last else canary.steps[index + 1].percent,
    }


def _check(check: CheckState) -> Json:
    return {
        "name": check.name,
        "outcome": check.outcome,
        "reason": check.reason,
        "checked_at": _time(check.checked_at),
        "consecutive_fails": check.consecutive_fails,
    }


def detail(deployment: str, policy: Policy, status: DeploymentStatus | None, now: datetime) -> Json:
    """`GET /v1/deployments/{d}`: the summary, the step, every check, the A/B result."""
    rollout = _rollout(status)
    rollback = rollout.rollback
    return {
        **summary(deployment, policy, status),
        "step": step(policy, rollout, now),
        "subject": list(rollout.subject),
        "started_at": _time(rollout.started_at),
        "checks": [_check(check) for check in rollout.checks],
        "ab_result": rollout.ab_result,
        "promoted_version": rollout.promoted_version,
        "rollback": None
        if rollback is None
        else {
            "cause": rollback.cause,
            "kind": rollback.kind,
            "versions": list(rollback.versions),
            "fallback": rollback.fallback,
            "started_at": _time(rollback.started_at),
            "committed": rollback.committed,
        },
        "updated_at": None if status is None else _time(status.updated_at),
        "writer": None if status is None else status.writer,
    }


def history(deployment: str, status: DeploymentStatus | None) -> Json:
    """`GET /v1/deployments/{d}/history`: every decision kept, oldest first."""
    return {
        "deployment": deployment,
        "decisions": [
            {"at": _time(record.at), "action": record.action, "reason": record.reason}
            for record in _rollout(status).decisions
        ],
    }


def _metric(result: MetricResult) -> Json:
    return {
        "metric": result.metric,
        "direction": result.direction,
        "decision": result.decision,
        "winner": result.winner,
        "effect": result.difference,
        "relative_lift": result.relative_lift,
        "interval": [_finite(result.interval[0]), _finite(result.interval[1])],
        "statistical_significance": result.statistical_significance,
        "control_samples": result.control_samples,
        "treatment_samples": result.treatment_samples,
        "reason": result.reason,
    }


def ab_results(deployment: str, policy: Policy, status: DeploymentStatus | None) -> Json:
    """`GET /v1/deployments/{d}/ab`: the A/B test per metric (see the module doc).

    `missing` says why there are no metrics: no A/B test declared, or none started yet.
    An infinite interval bound (before the test has looked past its sample guard) is null.
    """
    test = policy.ab_test
    if test is None:
        return {"deployment": deployment, "ab_test": None, "missing": "no A/B test declared"}
    rollout = _rollout(status)
    check = next((c for c in rollout.checks if c.name == AB_CHECK), None)
    document: Json = {
        "deployment": deployment,
        "ab_test": {
            "control": test.control,
            "treatment": test.treatment,
            "significance_level": test.significance_level,
            "duration_seconds": test.duration_seconds,
        },
        "result": rollout.ab_result,
    }
    if check is None or check.analysis is None:
        return {
            **document,
            "metrics": [],
            "missing": "the rollout state holds no A/B analysis: the controller has not"
            " started this test",
        }
    state = ABState.from_dict(check.analysis)
    seen = {
        name: Arms(control=sequential.control, treatment=sequential.treatment)
        for name, sequential in state.metrics
        if sequential.control.count > 0 and sequential.treatment.count > 0
    }
    started, looked = rollout.started_at, check.checked_at
    elapsed = (looked - started).total_seconds() if started and looked else 0.0
    result = analyse(test, state, seen, elapsed_seconds=max(0.0, elapsed))
    return {
        **document,
        "checked_at": _time(looked),
        "decision": result.decision,
        "winner": result.winner,
        "reason": result.reason,
        "metrics": [_metric(metric) for metric in result.metrics],
    }
