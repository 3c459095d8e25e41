"""A/B test decisions for the Policy's `ABTest`: one mSPRT per success metric.

Several metrics are corrected with Bonferroni: each metric's test runs at alpha / m (m metrics),
so the chance that any of them declares a difference that is not there stays at most alpha
over the whole test, however often it is looked at. Bonferroni rather than Holm because it
keeps each metric's confidence sequence and its decision the same statement (the interval, at
level 1 - alpha / m, excludes 0 exactly when that metric is decided), and a decided metric
never becomes undecided. `statistical_significance` is 1 - min(1, m * p), p the metric's
always-valid p-value, so it is compared with 1 - alpha like a single test.

The test as a whole, in this order:

- error: some metric's totals were unusable (the state keeps its last good looks);
- winner, the control: the treatment is shown worse on some metric (a harm outweighs a gain);
- winner, the treatment: shown better on some metric, worse on none, with every metric past
  the sample guard;
- no_difference_detected: `duration_seconds` has passed without a winner: the control stays;
- inconclusive: some metric has fewer than `min_sample_size` samples in a variant, or no data;
- continue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tfprod.policy import ABTest, SuccessMetric
from tfprod.runtime.analysis.msprt import (
    DEFAULT_RELATIVE_MDE,
    Arms,
    SequentialState,
    update,
)
from tfprod.runtime.analysis.samples import SampleError

Decision = Literal["winner", "no_difference_detected", "continue", "inconclusive", "error"]
_GROUPED: tuple[Decision, ...] = ("error", "winner", "inconclusive")
_DAY = 86400.0


@dataclass(frozen=True, kw_only=True)
class ABState:
    """The running tests of one A/B test, one per success metric, in the Policy's order."""

    metrics: tuple[tuple[str, SequentialState], ...]

    @classmethod
    def start(
        cls,
        test: ABTest,
        *,
        relative_mde: float = DEFAULT_RELATIVE_MDE,
        tau2: Mapping[str, float] | None = None,
    ) -> ABState:
        """Fresh tests for `test`'s metrics at alpha / m each.

        `relative_mde` (default 0.1) tunes every metric's default mixing variance; `tau2` sets
        it outright per metric name (default: none set).
        """
        alpha = test.significance_level / len(test.metrics)
        chosen = tau2 or {}
        unknown = sorted(set(chosen) - {metric.name for metric in test.metrics})
        if unknown:
            raise ValueError(
                f"tau2 names metrics the A/B test does not: {', '.join(unknown)}; its metrics:"
                f" {', '.join(metric.name for metric in test.metrics)}"
            )
        return cls(
            metrics=tuple(
                (
                    metric.name,
                    SequentialState(
                        alpha=alpha,
                        min_samples=test.min_sample_size,
                        tau2=chosen.get(metric.name),
                        relative_mde=relative_mde,
                    ),
                )
                for metric in test.metrics
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data for the controller's status document."""
        return {name: state.as_dict() for name, state in self.metrics}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ABState:
        """The state `as_dict` wrote."""
        return cls(
            metrics=tuple((name, SequentialState.from_dict(value)) for name, value in data.items())
        )


@dataclass(frozen=True, kw_only=True)
class MetricResult:
    """Where one success metric stands."""

    metric: str
    direction: Literal["increase", "decrease"]
    decision: Decision
    winner: str | None
    """The version shown better on this metric; None unless `decision` is "winner"."""
    difference: float | None
    """Treatment mean minus control mean; None before the sample guard is met."""
    relative_lift: float | None
    """`difference` over the control's mean; None before the guard or for a zero mean."""
    interval: tuple[float, float]
    """Always-valid interval for `difference` at level 1 - alpha / m; infinite before a test."""
    statistical_significance: float
    """1 - the always-valid p-value corrected for m metrics."""
    control_samples: float
    treatment_samples: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class ABResult:
    """The test's decision, each metric's standing, and the state to keep for the next look."""

    decision: Decision
    winner: str | None
    """Version to promote (the treatment) or keep (the control); None unless a winner."""
    reason: str
    metrics: tuple[MetricResult, ...]
    state: ABState


def analyse(
    test: ABTest, state: ABState, observations: Mapping[str, Arms], *, elapsed_seconds: float
) -> ABResult:
    """One look at an A/B test: running totals per metric name, time since the test started.

    A metric missing from `observations` has no data at this look (inconclusive).
    """
    if not (math.isfinite(elapsed_seconds) and elapsed_seconds >= 0):
        raise ValueError(f"elapsed_seconds {elapsed_seconds!r} is not valid: give 0 or more")
    names = tuple(metric.name for metric in test.metrics)
    if tuple(name for name, _ in state.metrics) != names:
        raise ValueError(
            f"the state tests {', '.join(name for name, _ in state.metrics)} but the A/B test"
            f" names {', '.join(names)}: start a new state with ABState.start(test)"
        )
    finished = elapsed_seconds >= test.duration_seconds
    states: list[tuple[str, SequentialState]] = []
    results: list[MetricResult] = []
    for metric, (name, before) in zip(test.metrics, state.metrics, strict=True):
        after, result = _look(test, metric, before, observations.get(name), finished)
        states.append((name, after))
        results.append(result)
    decision, winner, reason = _overall(test, results, finished)
    return ABResult(
        decision=decision,
        winner=winner,
        reason=reason,
        metrics=tuple(results),
        state=ABState(metrics=tuple(states)),
    )


def _look(
    test: ABTest,
    metric: SuccessMetric,
    before: SequentialState,
    observation: Arms | None,
    finished: bool,
) -> tuple[SequentialState, MetricResult]:
    error = ""
    after = before
    if observation is not None:
        try:
            after = update(before, observation)
        except SampleError as failure:
            error = f"{metric.name} {failure}"
    samples = (after.control.count, after.treatment.count)
    winner: str | None = None
    if error:
        decision: Decision = "error"
        reason = error
    elif after.significant:
        decision = "winner"
        winner = test.treatment if _treatment_better(metric, after) else test.control
        reason = f"{metric.name}: {winner} is better, {_estimate(after)}"
    elif finished:
        decision = "no_difference_detected"
        reason = f"{metric.name}: no difference detected, {_estimate(after)}"
    elif observation is None or min(samples) < test.min_sample_size:
        decision = "inconclusive"
        reason = (
            f"{metric.name}: no data at this look"
            if observation is None
            else f"{metric.name}: needs {test.min_sample_size} samples per variant; control"
            f" {test.control} has {samples[0]:g}, treatment {test.treatment} has {samples[1]:g}"
        )
    else:
        decision = "continue"
        reason = f"{metric.name}: undecided, {_estimate(after)}"
    return after, MetricResult(
        metric=metric.name,
        direction=metric.direction,
        decision=decision,
        winner=winner,
        difference=after.difference,
        relative_lift=_relative_lift(after),
        interval=(after.lower, after.upper),
        statistical_significance=1 - min(1.0, after.p_value * len(test.metrics)),
        control_samples=samples[0],
        treatment_samples=samples[1],
        reason=reason,
    )


def _treatment_better(metric: SuccessMetric, state: SequentialState) -> bool:
    """The side of 0 the interval lies on (the difference's sign if rounding left 0 inside)."""
    if state.lower > 0:
        higher = True
    elif state.upper < 0:
        higher = False
    else:
        higher = (state.difference or 0.0) > 0
    return higher == (metric.direction == "increase")


def _relative_lift(state: SequentialState) -> float | None:
    if state.difference is None or state.control.count == 0 or state.control.total == 0:
        return None
    return state.difference / (state.control.total / state.control.count)


def _estimate(state: SequentialState) -> str:
    level = f"{(1 - state.alpha) * 100:g}%"
    if state.difference is None:
        return f"no estimate yet ({state.control.count:g} and {state.treatment.count:g} samples)"
    return (
        f"difference {state.difference:+.4g} ({level} interval {state.lower:+.4g} to"
        f" {state.upper:+.4g})"
    )


def _overall(
    test: ABTest, results: list[MetricResult], finished: bool
) -> tuple[Decision, str | None, str]:
    by_decision = {
        decision: [r for r in results if r.decision == decision] for decision in _GROUPED
    }
    if by_decision["error"]:
        return "error", None, "; ".join(r.reason for r in by_decision["error"])
    winners = by_decision["winner"]
    harmed = [r for r in winners if r.winner == test.control]
    if harmed:
        return "winner", test.control, "; ".join(r.reason for r in harmed)
    if winners and not by_decision["inconclusive"]:
        return "winner", test.treatment, "; ".join(r.reason for r in winners)
    if finished:
        return (
            "no_difference_detected",
            None,
            f"no difference detected in {_duration(test.duration_seconds)}; control"
            f" {test.control} stays: " + "; ".join(r.reason for r in results),
        )
    if by_decision["inconclusive"]:
        return "inconclusive", None, "; ".join(r.reason for r in by_decision["inconclusive"])
    return "continue", None, "; ".join(r.reason for r in results)


def _duration(seconds: float) -> str:
    return f"{seconds / _DAY:g} days" if seconds >= _DAY else f"{seconds:g} s"
