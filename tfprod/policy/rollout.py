"""How new versions meet live traffic: canary ramps, A/B tests and shadow tests."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy._fields import ConditionField, Percent, Seconds
from tfprod.policy.errors import PolicyError
from tfprod.policy.expressions import KNOWN_METRICS, is_metric_name, parse_criterion
from tfprod.policy.versions import check_version_id

# Known metrics where lower is better; any other A/B metric defaults to "increase".
_LOWER_IS_BETTER: tuple[str, ...] = (
    *(name for name in KNOWN_METRICS if name.startswith("latency_")),
    "error_rate",
    "drift_score",
)


class RampStep(PolicyModel):
    """One step of a canary ramp: the canary's share of traffic, held for a while."""

    percent: Percent
    hold_seconds: Seconds


class CanaryRamp(PolicyModel):
    """A canary taken through increasing traffic steps, then promoted to 100 percent.

    At every check the success criteria are evaluated on the canary's traffic; a failure (after
    the controller's failure threshold) rolls it back, and missing data holds the ramp.
    Build the steps from a named schedule with `expressions.ramp_steps`, e.g.
    `ramp_steps("linear_10_minutes", 5)`.
    """

    version: str
    """Id of the version with role canary."""
    steps: tuple[RampStep, ...]
    """Steps in order, percent strictly increasing; also accepts (percent, hold) pairs."""
    success_criteria: tuple[ConditionField, ...] = ()
    """Conditions the canary must meet at every check; also accepts {"error_rate": "< 1%"}.
    Default: none, only the safety net's triggers and missing data stop the ramp."""
    check_interval_seconds: Seconds | None = None
    """How often the criteria are checked. Default: the controller's check interval."""

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        return check_version_id(value, "canary version")

    @field_validator(
        "steps", mode="before", json_schema_input_type=list[RampStep | tuple[float, float | str]]
    )
    @classmethod
    def _read_pairs(cls, value: Any) -> Any:
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [_pair_to_step(step) for step in value]
        return value

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, value: tuple[RampStep, ...]) -> tuple[RampStep, ...]:
        if not value:
            raise invalid("canary steps are empty: give at least one (percent, hold) step")
        for before, after in itertools.pairwise(value):
            if after.percent <= before.percent:
                raise invalid(
                    f"canary steps must increase: {after.percent:g}% follows {before.percent:g}%"
                )
        return value

    @field_validator(
        "success_criteria",
        mode="before",
        json_schema_input_type=list[ConditionField] | dict[str, str],
    )
    @classmethod
    def _read_criteria(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        try:
            return [parse_criterion(metric, text) for metric, text in value.items()]
        except PolicyError as error:
            raise invalid(str(error)) from None


def _pair_to_step(step: Any) -> Any:
    if isinstance(step, Sequence) and not isinstance(step, str) and len(step) == 2:
        return {"percent": step[0], "hold_seconds": step[1]}
    return step


class SuccessMetric(PolicyModel):
    """A metric an A/B test compares, and which direction counts as better."""

    name: str
    direction: Literal["increase", "decrease"]

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not is_metric_name(value):
            raise invalid(
                f"metric name {value!r} is not valid: use letters, digits and '_',"
                " starting with a letter"
            )
        return value


def _read_metric(value: Any) -> Any:
    if isinstance(value, str):
        direction = "decrease" if value in _LOWER_IS_BETTER else "increase"
        return {"name": value, "direction": direction}
    return value


class ABTest(PolicyModel):
    """A challenger compared with the stable version on live traffic, decided sequentially.

    The controller uses a mixture sequential probability ratio test (mSPRT), whose always-valid
    p-values stay correct however often it looks; it never decides before each variant has
    `min_sample_size` samples.
    """

    control: str
    """Id of the control version (role stable); the proposal's model_a."""
    treatment: str
    """Id of the treatment version (role challenger or canary); the proposal's model_b."""
    treatment_percent: Percent
    """Share of live traffic sent to the treatment, in percent (the proposal's 0.1 is 10)."""
    metrics: tuple[SuccessMetric, ...]
    """What decides the test; a bare name means higher is better, except for error_rate,
    drift_score and latencies."""
    min_sample_size: int = Field(ge=1)
    """Samples each variant needs before any decision."""
    significance_level: float = Field(default=0.05, gt=0, lt=1)
    """Chance of declaring a difference that is not there. Default: 0.05."""
    duration_seconds: Seconds
    """Longest the test may run; undecided at the end means the control stays."""
    method: Literal["msprt"] = "msprt"
    """Sequential test. Default and only choice so far: "msprt"."""

    @field_validator("control", "treatment")
    @classmethod
    def _check_versions(cls, value: str) -> str:
        return check_version_id(value, "A/B test variant")

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, value: tuple[SuccessMetric, ...]) -> tuple[SuccessMetric, ...]:
        if not value:
            raise invalid("A/B test metrics are empty: name at least one, e.g. conversion_rate")
        return value

    @field_validator("metrics", mode="before")
    @classmethod
    def _read_metrics(cls, value: Any) -> Any:
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [_read_metric(metric) for metric in value]
        return value


class ShadowTest(PolicyModel):
    """A candidate fed mirrored copies of live requests; its answers never reach users."""

    version: str
    """Id of the version with role shadow."""
    mirror_percent: Percent = 100.0
    """Share of live requests mirrored to it. Default: 100."""
    compare_outputs: bool = True
    """Record how its outputs differ from the stable version's. Default: true."""
    duration_seconds: Seconds | None = None
    """How long to mirror. Default: until the shadow test is removed."""

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        return check_version_id(value, "shadow version")
