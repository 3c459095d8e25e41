"""The mixture sequential probability ratio test (mSPRT) for two arms, normal approximation.

With `d = mean_treatment - mean_control` and
`V = var_control/n_control + var_treatment/n_treatment`, a normal mixing distribution
N(0, tau2) over the true difference gives the likelihood ratio

    log LR = 0.5*log(V/(V+tau2)) + d^2*tau2/(2*V*(V+tau2))

whose reciprocal is a p-value valid at every look at once ("always valid"): the running
`p_n = min(p_{n-1}, 1/LR_n)` is below alpha at some look with probability at most alpha when
there is no difference, however often the controller looks. Inverting the same test gives the
confidence sequence `d +- sqrt(2*V*(V+tau2)/tau2 * (log(1/alpha) + 0.5*log((V+tau2)/V)))`,
intersected over the looks (running max of the lower bound, running min of the upper); it
excludes 0 exactly when p has reached alpha. The one-sided form ("greater") mixes over positive
differences only (a half-normal), which adds `log(2*Phi(tau*d/sqrt(V*(V+tau2))))` to log LR.

tau2, the mixing variance, sets which differences the test finds fastest: about those near
tau. By default it is tied to a minimum detectable effect given as a relative lift
(`relative_mde`, 10%): at the first look past the sample guard, `tau2 = (relative_mde *
pooled mean)^2`, then frozen in the state so the mixture stays one distribution for the whole
test. The pooled mean (both arms together) is used because, with no difference, it carries no
information about `d`. Give `tau2` to set it outright (in the metric's units squared).

The caller keeps the `SequentialState` between looks (the controller in its status document)
and feeds it running totals; `update` is pure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from tfprod.runtime.analysis.samples import (
    Moments,
    Numbers,
    Sample,
    as_moments,
    check_progress,
    check_sample,
    mean_and_variance,
)

DEFAULT_RELATIVE_MDE = 0.1
Alternative = Literal["two-sided", "greater"]
_NOTHING = Moments(count=0.0, total=0.0, sum_of_squares=0.0)


def log_likelihood_ratio(difference: Numbers, variance: Numbers, tau2: Numbers) -> Any:
    """log LR of the two-sided mixture; elementwise on numpy arrays."""
    return 0.5 * np.log(variance / (variance + tau2)) + difference * difference * tau2 / (
        2 * variance * (variance + tau2)
    )


def one_sided_log_likelihood_ratio(difference: float, variance: float, tau2: float) -> float:
    """log LR of the half-normal mixture over positive differences (treatment greater)."""
    z = math.sqrt(tau2) * difference / math.sqrt(variance * (variance + tau2))
    tail = 0.5 * math.erfc(-z / math.sqrt(2))  # Phi(z)
    if tail == 0.0:
        return -math.inf
    return float(log_likelihood_ratio(difference, variance, tau2)) + math.log(2 * tail)


def half_width(variance: Numbers, tau2: Numbers, alpha: float) -> Any:
    """Half-width of the two-sided confidence sequence at level 1 - alpha; elementwise."""
    return np.sqrt(
        2
        * variance
        * (variance + tau2)
        / tau2
        * (math.log(1 / alpha) + 0.5 * np.log((variance + tau2) / variance))
    )


def difference_and_variance(control: Moments, treatment: Moments) -> tuple[float, float]:
    """`d` (treatment minus control) and its variance `V` under the normal approximation."""
    mean_c, var_c = mean_and_variance(control.count, control.total, control.sum_of_squares)
    mean_t, var_t = mean_and_variance(treatment.count, treatment.total, treatment.sum_of_squares)
    return float(mean_t - mean_c), float(var_c / control.count + var_t / treatment.count)


@dataclass(frozen=True, kw_only=True)
class Arms:
    """One look: running totals of the control (or stable) and the treatment (or canary)."""

    control: Sample
    treatment: Sample


@dataclass(frozen=True, kw_only=True)
class SequentialState:
    """One metric's test: its settings and everything earlier looks leave for later ones.

    Start one with the settings only, e.g. `SequentialState(alpha=0.05, min_samples=1000)`.
    """

    alpha: float
    """Chance of a false difference over the whole test; the interval's level is 1 - alpha."""
    min_samples: int
    """Samples each arm needs before a look tests anything (the normal approximation's guard)."""
    tau2: float | None = None
    """Mixing variance. Default: None, set at the first tested look from `relative_mde`."""
    relative_mde: float = DEFAULT_RELATIVE_MDE
    """Relative lift the default tau2 is tuned to find. Default: 0.1 (10%)."""
    alternative: Alternative = "two-sided"
    """"greater" tests only that the treatment's mean is above the control's. Default: both."""
    p_value: float = 1.0
    """Always-valid p-value: the smallest 1/LR over the looks so far."""
    lower: float = -math.inf
    """Lower bound of the confidence sequence for the difference (treatment - control)."""
    upper: float = math.inf
    """Upper bound of the confidence sequence for the difference."""
    difference: float | None = None
    """The latest difference of means (treatment - control); None before the guard."""
    control: Moments = _NOTHING
    """Running totals at the last look, to catch counter resets."""
    treatment: Moments = _NOTHING
    looks: int = 0
    """Looks that tested (past the guard, with some spread in the data)."""

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha {self.alpha!r} is not valid: give a number between 0 and 1")
        if self.min_samples < 1:
            raise ValueError(f"min_samples {self.min_samples!r} is not valid: give 1 or more")
        if self.tau2 is not None and not (math.isfinite(self.tau2) and self.tau2 > 0):
            raise ValueError(f"tau2 {self.tau2!r} is not valid: give a finite number above 0")
        if not (math.isfinite(self.relative_mde) and self.relative_mde > 0):
            raise ValueError(
                f"relative_mde {self.relative_mde!r} is not valid: give a number above 0"
            )

    @property
    def significant(self) -> bool:
        """Whether the test has rejected "no difference" at level alpha (it stays rejected)."""
        return self.p_value <= self.alpha

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data (infinite bounds as None) for the controller's status document."""
        data = asdict(self)
        data["lower"] = None if self.lower == -math.inf else self.lower
        data["upper"] = None if self.upper == math.inf else self.upper
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SequentialState:
        """The state `as_dict` wrote."""
        values = dict(data)
        values["lower"] = -math.inf if values["lower"] is None else values["lower"]
        values["upper"] = math.inf if values["upper"] is None else values["upper"]
        values["control"] = Moments(**values["control"])
        values["treatment"] = Moments(**values["treatment"])
        return cls(**values)


def update(
    state: SequentialState, observation: Arms, *, names: tuple[str, str] = ("control", "treatment")
) -> SequentialState:
    """The state after one more look at running totals; raises SampleError on unusable ones.

    Before each arm has `min_samples`, or while the data has no spread (no conversion in
    either arm yet), a look only records the totals. `names` are the arms' names in errors.
    """
    check_sample(observation.control, names[0])
    check_sample(observation.treatment, names[1])
    control, treatment = as_moments(observation.control), as_moments(observation.treatment)
    check_progress(state.control, control, names[0])
    check_progress(state.treatment, treatment, names[1])
    seen = replace(state, control=control, treatment=treatment)
    if min(control.count, treatment.count) < state.min_samples:
        return seen
    difference, variance = difference_and_variance(control, treatment)
    seen = replace(seen, difference=difference)
    tau2 = state.tau2 if state.tau2 is not None else _default_tau2(state, control, treatment)
    if variance <= 0 or tau2 is None:
        return seen
    if state.alternative == "greater":
        log_lr = one_sided_log_likelihood_ratio(difference, variance, tau2)
    else:
        log_lr = float(log_likelihood_ratio(difference, variance, tau2))
    width = float(half_width(variance, tau2, state.alpha))
    return replace(
        seen,
        tau2=tau2,
        p_value=min(state.p_value, math.exp(min(-log_lr, 0.0))),
        lower=max(state.lower, difference - width),
        upper=min(state.upper, difference + width),
        looks=state.looks + 1,
    )


def mixing_variance(pooled_mean: Numbers, relative_mde: float) -> Any:
    """The default tau2: `(relative_mde * pooled mean)^2`; elementwise on numpy arrays."""
    return (relative_mde * pooled_mean) ** 2


def _default_tau2(state: SequentialState, control: Moments, treatment: Moments) -> float | None:
    pooled_mean = (control.total + treatment.total) / (control.count + treatment.count)
    if pooled_mean == 0:
        return None
    return float(mixing_variance(pooled_mean, state.relative_mde))
