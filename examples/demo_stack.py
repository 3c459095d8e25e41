"""The local stack `make demo` runs: three deployments of the recommendation model, one per story.

The nine example stacks declare the proposal's recommendation engine as written, with
production cadences (10 s checks over a 60 s window, a two-week A/B test, a ten-minute ramp)
and an A/B metric the controller does not observe (`revenue_per_user`). The demo needs the
same constructs at a pace a person can watch, so it declares its own stack here rather than
change the examples' synthesized output:

- `recommendation-canary`: rec-v2.1.1 ramps 20, 40, 60, 80% (4 s holds), then promotion.
- `recommendation-ab`: rec-v2.0.0 against rec-v2.1.0 on 50% of traffic, decided on
  conversion and click-through rate from feedback (at least `AB_MIN_SAMPLES` per arm).
- `recommendation-fault`: rec-v2.1.1 as a canary held at 30% (its first step lasts an hour),
  so the demo can inject a fault into it.

Every deployment shares the demo's aggressive controller settings (`DEMO_CONTROLLER`: a check
each second over a 4 s window, one failing check acts) and the example safety net's error
trigger (`error_rate > 5%` rolls back at once to rec-v2.0.0); both canaries have the example's
`error_rate < 1%` criterion.
"""

from __future__ import annotations

from pathlib import Path

from tfprod.constructs import (
    ABTest,
    App,
    CanaryDeployment,
    ModelDeployment,
    SafetyNet,
)
from tfprod.policy import ControllerSettings
from tfprod.stacks import ClusterModelPlatform

STACK = "demo-local"
MODEL = "rec"
STABLE = "rec-v2.0.0"
CHALLENGER = "rec-v2.1.0"
CANARY = "rec-v2.1.1"
VERSIONS = (STABLE, CHALLENGER, CANARY)
RAMP = "recommendation-canary"
AB = "recommendation-ab"
FAULT = "recommendation-fault"
AB_MIN_SAMPLES = 200
DEMO_CONTROLLER = ControllerSettings(
    check_interval_seconds=1,
    evaluation_window_seconds=4,
    failure_threshold=1,
    min_samples=20,
    no_data_bound_seconds=120,
    actuation_bound_seconds=2,
)
"""Aggressive, for a demo that lasts about a minute; the defaults are 10 s checks over 60 s."""


def declare_demo(app: App, registry_uri: str) -> ClusterModelPlatform:
    """The demo's stack in `app`, its models in the `file://` registry `registry_uri`."""
    stack = ClusterModelPlatform(app, STACK, registry_uri=registry_uri, namespace="demo")
    ramp = _deployment(stack, RAMP)
    CanaryDeployment(
        ramp,
        "canary",
        new_model=CANARY,
        traffic_percentage=20,
        ramp_up_schedule=[(20, "4s"), (40, "4s"), (60, "4s"), (80, "4s")],
        success_criteria={"error_rate": "< 1%"},
    )
    ab = _deployment(stack, AB)
    ABTest(
        ab,
        "ab-test",
        name="recommendation-algorithm-test",
        model_a=STABLE,
        model_b=CHALLENGER,
        traffic_split=0.5,
        success_metrics=["conversion_rate", "click_through_rate"],
        duration_days=300 / 86400,
        min_sample_size=AB_MIN_SAMPLES,
        significance_level=0.05,
    )
    fault = _deployment(stack, FAULT)
    CanaryDeployment(
        fault,
        "canary",
        new_model=CANARY,
        traffic_percentage=30,
        ramp_up_schedule=[(30, "1h")],
        success_criteria={"error_rate": "< 1%"},
    )
    return stack


def _deployment(stack: ClusterModelPlatform, name: str) -> ModelDeployment:
    deployment = ModelDeployment(
        stack,
        name,
        name=name,
        model=stack.registry.model(MODEL),
        version=STABLE,
        environment="staging",
        replicas=1,
        controller=DEMO_CONTROLLER,
    )
    SafetyNet(
        deployment,
        "safety",
        fallback_model=STABLE,
        triggers={"error_rate > 5%": "immediate_rollback"},
    )
    return deployment


def synthesize_demo(outdir: Path, registry_uri: str) -> None:
    """Synthesizes the demo's stack into `outdir` (policies beside it, as for any stack)."""
    app = App(outdir=str(outdir))
    declare_demo(app, registry_uri)
    app.synth()
