"""`ABTest` and `CanaryDeployment`, declared on a deployment (results and promotion: `verbs`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from tfprod.policy import ABTest as ABTestSection, CanaryRamp, PolicyError, ramp_steps
from tfprod.production.declared import Construct, section
from tfprod.production.deployment import Deployment, attach, version_of
from tfprod.production.errors import ProductionError, argument_error
from tfprod.production.session import current
from tfprod.production.verbs import ABResults, ab_results, promote_winner

DAY_SECONDS = 86_400
METRIC_NAMES: Mapping[str, str] = {"conversion": "conversion_rate"}
"""The proposal's A/B metric names the platform knows under another name."""


class ABTest:
    """The proposal's A/B test: `model_b` against the stable `model_a` on live traffic."""

    def __init__(
        self,
        *,
        name: str,
        model_a: Any,
        model_b: Any,
        traffic_split: float,
        success_metrics: Sequence[str],
        duration_days: float,
        min_sample_size: int | None = None,
        significance_level: float = 0.05,
        deployment: Deployment | None = None,
    ) -> None:
        """`model_a` and `model_b`: Keras models, SavedModel paths or version ids; `model_a`
        must be the stable version of the deployment the test attaches to (`deployment`, else
        the one serving `model_a`, else the most recent `deploy`). `traffic_split`: model_b's
        fraction of traffic. `success_metrics`: click_rate, conversion, revenue, error_rate...
        `min_sample_size`: default `configure(ab_min_sample_size=...)` (1000)."""
        from tfprod.runtime.controller.checks import AB_METRICS

        session = current()
        session.declaring("ABTest")
        declared = attach(model_a, deployment=deployment, call="ABTest")
        version_a = version_of(declared, model_a, call="ABTest", argument="model_a")
        if version_a != declared.stable:
            raise argument_error(
                "ABTest",
                "model_a",
                f"is version {version_a!r}, not the stable version of {declared.name!r}",
                repr(declared.stable),
            )
        if not (isinstance(traffic_split, int | float) and 0 < traffic_split < 1):
            raise argument_error(
                "ABTest",
                "traffic_split",
                f"{traffic_split!r} is not a fraction of traffic",
                "above 0 and below 1 (0.1 sends 10% to model_b)",
            )
        if not (
            isinstance(duration_days, int | float)
            and math.isfinite(duration_days)
            and duration_days > 0
        ):
            raise argument_error(
                "ABTest",
                "duration_days",
                f"{duration_days!r} is not above 0",
                "a number of days above 0",
            )
        metrics = [METRIC_NAMES.get(metric, metric) for metric in success_metrics]
        allowed = (*AB_METRICS, *METRIC_NAMES)
        for given, metric in zip(success_metrics, metrics, strict=True):
            if metric not in AB_METRICS:
                raise argument_error(
                    "ABTest",
                    "success_metrics",
                    f"names {given!r}, which the platform cannot measure",
                    ", ".join(allowed),
                )
        version_b = version_of(declared, model_b, call="ABTest", argument="model_b")
        samples = session.ab_min_sample_size if min_sample_size is None else min_sample_size
        percent = round(traffic_split * 100, 2)
        test = section(
            ABTestSection,
            {
                "control": version_a,
                "treatment": version_b,
                "treatment_percent": percent,
                "metrics": metrics,
                "min_sample_size": samples,
                "significance_level": significance_level,
                "duration_seconds": duration_days * DAY_SECONDS,
            },
            call="ABTest",
            rename={"min_sample_size": "min_sample_size", "treatment": "model_b"},
        )
        declared.add_version(version_b, "challenger", percent, call="ABTest", argument="model_b")
        declared.set_section("ab_test", test, call="ABTest")
        declared.constructs.append(
            Construct(
                "ABTest",
                "ab-test",
                {
                    "name": name,
                    "model_a": version_a,
                    "model_b": version_b,
                    "traffic_split": traffic_split,
                    "success_metrics": metrics,
                    "duration_days": duration_days,
                    "min_sample_size": samples,
                    "significance_level": significance_level,
                },
            )
        )
        self.name = name
        self.deployment = Deployment(declared.name)
        self.model_a = version_a
        self.model_b = version_b

    def __repr__(self) -> str:
        return (
            f"ABTest({self.name!r} on {self.deployment.name!r}: {self.model_a} vs {self.model_b})"
        )

    def get_results(self) -> ABResults:
        """The test's always-valid statistics now (safe to call at any time)."""
        return ab_results(self.deployment.name)

    def promote_winner(self) -> str:
        """Gives the winner the test's traffic and returns its version id; NoWinnerError
        while there is none."""
        return promote_winner(self.deployment.name, name=self.name)


class CanaryDeployment:
    """The proposal's canary: `new_model` ramped up from `traffic_percentage` percent."""

    def __init__(
        self,
        *,
        new_model: Any,
        traffic_percentage: float,
        ramp_up_schedule: str,
        success_criteria: Mapping[str, str] | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        """`new_model`: a Keras model, SavedModel path or version id, added to `deployment`
        (default: the one serving it, else the most recent `deploy`)."""
        session = current()
        session.declaring("CanaryDeployment")
        declared = attach(new_model, deployment=deployment, call="CanaryDeployment")
        version = version_of(declared, new_model, call="CanaryDeployment", argument="new_model")
        if not (isinstance(traffic_percentage, int | float) and 0 < traffic_percentage < 100):
            raise argument_error(
                "CanaryDeployment",
                "traffic_percentage",
                f"{traffic_percentage!r} is not valid",
                "a percent above 0 and below 100",
            )
        try:
            steps = ramp_steps(ramp_up_schedule, traffic_percentage)
        except PolicyError as error:
            raise ProductionError(f"CanaryDeployment: ramp_up_schedule: {error}") from None
        ramp = section(
            CanaryRamp,
            {"version": version, "steps": steps, "success_criteria": dict(success_criteria or {})},
            call="CanaryDeployment",
            rename={"version": "new_model", "steps": "ramp_up_schedule"},
        )
        declared.add_version(
            version, "canary", traffic_percentage, call="CanaryDeployment", argument="new_model"
        )
        declared.set_section("canary", ramp, call="CanaryDeployment")
        declared.constructs.append(
            Construct(
                "CanaryDeployment",
                "canary",
                {
                    "new_model": version,
                    "traffic_percentage": traffic_percentage,
                    "ramp_up_schedule": ramp_up_schedule,
                    "success_criteria": dict(success_criteria or {}),
                },
            )
        )
        self.deployment = Deployment(declared.name)
        self.new_model = version

    def __repr__(self) -> str:
        return f"CanaryDeployment({self.new_model!r} on {self.deployment.name!r})"

    def status(self) -> dict[str, Any]:
        """The deployment's status: phase, weights and the ramp step."""
        return self.deployment.status()
