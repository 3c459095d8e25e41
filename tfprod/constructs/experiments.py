"""How new versions meet live traffic: `CanaryDeployment`, `ABTest`, `ShadowTest`.

Each takes the `ModelDeployment` as its scope, adds its version (role canary, challenger or
shadow) and sets its policy section. Traffic shares are taken from the stable version, which
keeps the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from tfprod.bindings._core import Construct
from tfprod.constructs._props import fraction_prop, percent_prop
from tfprod.constructs.deployment import deployment_scope, section_error
from tfprod.constructs.errors import construct_error
from tfprod.policy import (
    ABTest as ABTestSection,
    CanaryRamp,
    Condition,
    PolicyError,
    ShadowTest as ShadowSection,
    SuccessMetric,
    ramp_steps,
)
from tfprod.policy.expressions import RAMP_FORMS

DAY_SECONDS = 86400


class CanaryDeployment(Construct):
    """A new version ramped up step by step, rolled back when it fails its criteria.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        new_model: str,
        traffic_percentage: float | str,
        ramp_up_schedule: str | Sequence[tuple[float | str, float | str]],
        success_criteria: Mapping[str, str] | Sequence[Condition | str] = (),
        check_interval: float | str | None = None,
    ) -> None:
        """- `new_model`: the canary's version id, e.g. "rec-v2.1.0".
        - `traffic_percentage`: its starting share of traffic, in percent: 5 or "5%".
        - `ramp_up_schedule`: a named schedule ("linear_10_minutes", "exponential_30_minutes",
          "linear_5_steps_2m") or (percent, hold) steps starting at `traffic_percentage`, the
          percent written 5 or "5%".
        - `success_criteria`: {"error_rate": "< 1%", ...} or conditions such as
          "error_rate < 1%". Default: none (governance warns).
        - `check_interval`: seconds or "30s" between checks of the criteria. Default: the
          controller's check interval.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "CanaryDeployment", scope)
        traffic_percentage = percent_prop(self, "traffic_percentage", traffic_percentage)
        if isinstance(ramp_up_schedule, str):
            try:
                steps: Sequence[tuple[float | str, float | str]] = ramp_steps(
                    ramp_up_schedule, traffic_percentage
                )
            except PolicyError as error:
                raise construct_error(self, "ramp_up_schedule", str(error)) from None
        else:
            steps = ramp_up_schedule
        try:
            section = CanaryRamp.model_validate(
                {
                    "version": new_model,
                    "steps": steps,
                    "success_criteria": success_criteria,
                    "check_interval_seconds": check_interval,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _CANARY_NAMES) from None
        if not math.isclose(section.steps[0].percent, traffic_percentage):
            raise construct_error(
                self,
                "ramp_up_schedule",
                f"the first step is {section.steps[0].percent:g}% but traffic_percentage is"
                f" {traffic_percentage:g}",
                f"steps starting at {traffic_percentage:g}, or one of {RAMP_FORMS}",
            )
        deployment.add_version(new_model, "canary", traffic_percentage, by=self, field="new_model")
        deployment.set_section("canary", section, by=self)
        self.new_model = new_model
        self.traffic_percentage = traffic_percentage
        self.ramp = section


_CANARY_NAMES = {
    "version": "new_model",
    "steps": "ramp_up_schedule",
    "check_interval_seconds": "check_interval",
}


class ABTest(Construct):
    """A challenger compared with the stable version on live traffic, decided sequentially.

    Scope: the `ModelDeployment`; `model_a` must be its stable version.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        model_a: str,
        model_b: str,
        traffic_split: float | str,
        success_metrics: Sequence[str | SuccessMetric],
        duration_days: float,
        min_sample_size: int = 1000,
        significance_level: float = 0.05,
    ) -> None:
        """- `name`: the experiment's name, shown in reviews and alerts.
        - `model_a`: the control: the deployment's stable version id.
        - `model_b`: the treatment's version id; it is added with role challenger.
        - `traffic_split`: the treatment's share of traffic as a fraction: 0.1 or "10%".
        - `success_metrics`: metric names (higher is better, except error_rate, drift_score and
          latencies) or `SuccessMetric`s.
        - `duration_days`: longest the test runs; undecided at the end, the control stays.
        - `min_sample_size`: samples each variant needs before any decision. Default: 1000.
        - `significance_level`: false-positive rate of the sequential test. Default: 0.05.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "ABTest", scope)
        if model_a != deployment.stable_version:
            raise construct_error(
                self,
                "model_a",
                f"{model_a!r} is not the stable version of {deployment.node.path}",
                repr(deployment.stable_version),
            )
        traffic_split = fraction_prop(self, "traffic_split", traffic_split)
        if not (math.isfinite(traffic_split) and 0 < traffic_split < 1):
            raise construct_error(
                self,
                "traffic_split",
                f"{traffic_split:g} is not a fraction of traffic",
                "above 0 and below 1 (0.1 sends 10% to model_b)",
            )
        if not (math.isfinite(duration_days) and duration_days > 0):
            raise construct_error(
                self,
                "duration_days",
                f"{duration_days:g} is not above 0",
                "a number of days above 0",
            )
        percent = round(traffic_split * 100, 2)
        try:
            section = ABTestSection.model_validate(
                {
                    "control": model_a,
                    "treatment": model_b,
                    "treatment_percent": percent,
                    "metrics": list(success_metrics),
                    "min_sample_size": min_sample_size,
                    "significance_level": significance_level,
                    "duration_seconds": duration_days * DAY_SECONDS,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _AB_NAMES) from None
        deployment.add_version(model_b, "challenger", percent, by=self, field="model_b")
        deployment.set_section("ab_test", section, by=self)
        self.name = name
        self.model_a = model_a
        self.model_b = model_b
        self.test = section


_AB_NAMES = {
    "control": "model_a",
    "treatment": "model_b",
    "treatment_percent": "traffic_split",
    "metrics": "success_metrics",
    "duration_seconds": "duration_days",
}


class ShadowTest(Construct):
    """A candidate fed mirrored copies of live requests; its answers never reach users.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        candidate: str,
        mirror_percentage: float | str = 100,
        compare_outputs: bool = True,
        duration: float | str | None = None,
    ) -> None:
        """- `candidate`: the shadow version id; it is added with role shadow and no traffic.
        - `mirror_percentage`: share of live requests mirrored to it, in percent: 50 or "50%".
          Default: 100.
        - `compare_outputs`: record how its outputs differ from the stable's. Default: True.
        - `duration`: seconds or "1h" to mirror for. Default: None, until it is removed.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "ShadowTest", scope)
        try:
            section = ShadowSection.model_validate(
                {
                    "version": candidate,
                    "mirror_percent": mirror_percentage,
                    "compare_outputs": compare_outputs,
                    "duration_seconds": duration,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _SHADOW_NAMES) from None
        deployment.add_version(candidate, "shadow", 0.0, by=self, field="candidate")
        deployment.set_section("shadow", section, by=self)
        self.candidate = candidate
        self.test = section


_SHADOW_NAMES = {
    "version": "candidate",
    "mirror_percent": "mirror_percentage",
    "duration_seconds": "duration",
}
