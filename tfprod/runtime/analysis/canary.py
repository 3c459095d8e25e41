"""A canary judged against the stable version, one success criterion of its ramp at a time.

The criteria are the Policy's (`CanaryRamp.success_criteria`, e.g. {"error_rate": "< 1%",
"latency_p95": "< 200ms"}); `ControllerSettings.min_samples` is the guard. Each look gives
running totals since the canary's analysis started, for both versions:

- error_rate: requests and errors (a `Proportion`), compared with a one-sided sequential
  two-proportion test (the mSPRT, "canary worse" only).
- latency_p50/p90/p95/p99: the request-duration histograms' cumulative bucket counts
  (`Buckets`). The quantile is estimated as Prometheus' `histogram_quantile` does, and the
  comparison with stable is on the tail: at the first look past the guard, the bound of the
  stable's bucket holding its quantile (for p95, the bucket where 95% of stable's requests are
  reached) is fixed in the state, and the share of requests slower than that bound is compared
  with the same one-sided sequential test. A quantile comparison, rather than a rank test,
  because the criterion is a quantile; the tail share tests it with the proportions' code, and
  at a fixed bound, so the test stays one sequential test. Its resolution is the buckets'.

The outcome of a look:

- error: unusable input (negative or NaN counts, a counter reset, mismatched buckets), or a
  criterion this judge cannot compare (another metric, or "==" / "!=", which have no worse side);
- inconclusive: either version has fewer than `min_samples`, or the canary breaks the
  criterion but is not (yet) shown worse than stable;
- pass: the canary's value meets the criterion;
- fail: it breaks the criterion and is shown worse than stable, at level alpha (default 0.05).

So a slowdown both versions share is not blamed on the canary, but it is never passed either.
The mixing variance is tied to the criterion: for error_rate tau is the threshold (the canary
reaching it from a clean stable), for a latency quantile q it is 1 - q (the canary's tail share
doubling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from tfprod.policy import Condition, ControllerSettings
from tfprod.runtime.analysis.msprt import Arms, SequentialState, update
from tfprod.runtime.analysis.outcome import Outcome
from tfprod.runtime.analysis.samples import (
    Buckets,
    Proportion,
    SampleError,
    above,
    bucket_holding,
    check_buckets,
    quantile,
)

DEFAULT_ALPHA = 0.05
QUANTILE_LEVELS: dict[str, float] = {
    "latency_p50": 0.5,
    "latency_p90": 0.9,
    "latency_p95": 0.95,
    "latency_p99": 0.99,
}
JUDGED_METRICS: tuple[str, ...] = ("error_rate", *QUANTILE_LEVELS)
_FALLBACK_ERROR_TAU = 0.01  # for a zero error-rate threshold, which gives no scale


@dataclass(frozen=True, kw_only=True)
class CanaryState:
    """One criterion's running test, kept by the caller between looks."""

    test: SequentialState
    """Control is the stable version and treatment the canary (swapped for ">" criteria)."""
    boundary: float | None = None
    """Latency only: the bucket bound the tail shares are compared above; None until fixed."""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data for the controller's status document."""
        return {"test": self.test.as_dict(), "boundary": self.boundary}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanaryState:
        """The state `as_dict` wrote."""
        return cls(test=SequentialState.from_dict(data["test"]), boundary=data["boundary"])


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """What one look found for one criterion, and the state to keep for the next look."""

    outcome: Outcome
    criterion: Condition
    canary_value: float | None
    """The canary's error rate or latency quantile (seconds); None without data."""
    stable_value: float | None
    statistical_significance: float
    """1 - the always-valid p-value of "the canary is worse than stable"."""
    reason: str
    state: CanaryState | None
    """The state for the next look, unchanged by an error; None only if the criterion cannot
    be judged and no state was given."""


def judge(
    criterion: Condition,
    state: CanaryState | None,
    *,
    canary: Proportion | Buckets,
    stable: Proportion | Buckets,
    settings: ControllerSettings,
    alpha: float = DEFAULT_ALPHA,
) -> CheckResult:
    """One look at one criterion; `state` None starts the criterion's test.

    `settings.min_samples` and `alpha` are read when the test starts; a running test keeps
    the ones it started with, so the caller restarts it (state None) when the Policy changes.
    """
    problem = _unjudgeable(criterion, canary, stable)
    if problem:
        return _result(Outcome.ERROR, criterion, (None, None), problem, state)
    if state is None:
        state = CanaryState(
            test=SequentialState(
                alpha=alpha,
                min_samples=settings.min_samples,
                tau2=_tau(criterion) ** 2,
                alternative="greater",
            )
        )
    try:
        if isinstance(canary, Proportion) and isinstance(stable, Proportion):
            values = (_rate(canary), _rate(stable))
            counts = (canary.trials, stable.trials)
            after = _look(criterion, state, canary, stable)
        else:
            assert isinstance(canary, Buckets) and isinstance(stable, Buckets)
            counts = (canary.total, stable.total)
            values, after = _latency_look(criterion, state, canary, stable)
    except SampleError as error:
        return _result(Outcome.ERROR, criterion, (None, None), f"{criterion.metric} {error}", state)
    return _outcome(criterion, after, values, counts)


def _unjudgeable(
    criterion: Condition, canary: Proportion | Buckets, stable: Proportion | Buckets
) -> str:
    if criterion.metric not in JUDGED_METRICS:
        return (
            f"the canary judge compares {', '.join(JUDGED_METRICS)} with stable, not"
            f" {criterion.metric!r}"
        )
    if criterion.op in ("==", "!="):
        return f"criterion {criterion} has no worse side to test: use <, <=, > or >="
    wanted = Proportion if criterion.metric == "error_rate" else Buckets
    if not (isinstance(canary, wanted) and isinstance(stable, wanted)):
        return (
            f"{criterion.metric} needs {wanted.__name__} for canary and stable, got"
            f" {type(canary).__name__} and {type(stable).__name__}"
        )
    return ""


def _tau(criterion: Condition) -> float:
    if criterion.metric == "error_rate":
        return criterion.threshold if criterion.threshold > 0 else _FALLBACK_ERROR_TAU
    return 1 - QUANTILE_LEVELS[criterion.metric]


def _look(
    criterion: Condition, state: CanaryState, canary: Proportion, stable: Proportion
) -> CanaryState:
    """The test updated with "higher is worse" as the alternative, whichever way that points."""
    if criterion.op in ("<", "<="):
        arms, names = Arms(control=stable, treatment=canary), ("stable", "canary")
    else:
        arms, names = Arms(control=canary, treatment=stable), ("canary", "stable")
    return replace(state, test=update(state.test, arms, names=names))


def _latency_look(
    criterion: Condition, state: CanaryState, canary: Buckets, stable: Buckets
) -> tuple[tuple[float | None, float | None], CanaryState]:
    check_buckets(canary, "canary")
    check_buckets(stable, "stable")
    if canary.upper_bounds != stable.upper_bounds:
        raise SampleError(
            f"canary and stable histograms have different buckets: {canary.upper_bounds}"
            f" and {stable.upper_bounds}"
        )
    level = QUANTILE_LEVELS[criterion.metric]
    values = (_quantile(canary, level), _quantile(stable, level))
    boundary = state.boundary
    if boundary is None:
        if min(canary.total, stable.total) < state.test.min_samples:
            return values, state
        boundary = stable.upper_bounds[bucket_holding(stable, level)]
        if boundary == math.inf:
            return values, state
    if boundary not in stable.upper_bounds:
        raise SampleError(
            f"histogram buckets {stable.upper_bounds} lost the bound {boundary:g} the test"
            " compares above"
        )
    index = stable.upper_bounds.index(boundary)
    after = _look(
        criterion, replace(state, boundary=boundary), above(canary, index), above(stable, index)
    )
    return values, after


def _outcome(
    criterion: Condition,
    state: CanaryState,
    values: tuple[float | None, float | None],
    counts: tuple[float, float],
) -> CheckResult:
    canary_value, stable_value = values
    min_samples = state.test.min_samples
    name = criterion.metric
    if canary_value is None or stable_value is None or min(counts) < min_samples:
        reason = (
            f"{name}: needs {min_samples} requests per version; canary has {counts[0]:g},"
            f" stable {counts[1]:g}"
        )
        return _result(Outcome.INCONCLUSIVE, criterion, values, reason, state)
    if state.boundary is None and name != "error_rate":
        reason = f"{name}: stable's quantile lies above the last finite bucket; no tail to compare"
        return _result(Outcome.INCONCLUSIVE, criterion, values, reason, state)
    shown = f"{name} {_show(canary_value, criterion)} (stable {_show(stable_value, criterion)})"
    significance = f"significance {1 - state.test.p_value:.4f}"
    if criterion.holds(canary_value):
        outcome, reason = Outcome.PASS, f"{shown} meets {criterion}"
    elif state.test.significant:
        outcome, reason = (
            Outcome.FAIL,
            f"{shown} breaks {criterion}, worse than stable, {significance}",
        )
    else:
        outcome = Outcome.INCONCLUSIVE
        reason = f"{shown} breaks {criterion}, not yet shown worse than stable, {significance}"
    return _result(outcome, criterion, values, reason, state)


def _result(
    outcome: Outcome,
    criterion: Condition,
    values: tuple[float | None, float | None],
    reason: str,
    state: CanaryState | None,
) -> CheckResult:
    return CheckResult(
        outcome=outcome,
        criterion=criterion,
        canary_value=values[0],
        stable_value=values[1],
        statistical_significance=1 - state.test.p_value if state is not None else 0.0,
        reason=reason,
        state=state,
    )


def _rate(sample: Proportion) -> float | None:
    return sample.successes / sample.trials if sample.trials > 0 else None


def _quantile(buckets: Buckets, level: float) -> float | None:
    value = quantile(buckets, level)
    return None if math.isnan(value) else value


def _show(value: float, criterion: Condition) -> str:
    if criterion.unit == "ratio":
        return f"{value * 100:.3g}%"
    if criterion.unit == "seconds":
        return f"{value * 1000:.4g}ms"
    return f"{value:.4g}"
