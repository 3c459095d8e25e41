"""A recommendation engine in production, declared exactly as the tf.production proposal writes it.

Version 2.0.0 serves; 2.1.0 is A/B tested against it on 10% of traffic for two weeks; the
2.1.1 patch ramps in as a canary; 2.2.0 sees a mirror of all traffic in a one-hour shadow
test. Latency, confidence, drift and errors are watched, alerts go to Slack, e-mail and
PagerDuty, and a safety net falls back to 2.0.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from examples.clouds import Team, platform
from examples.toy_models import training_features
from tfprod.constructs import (
    ABTest,
    AutoScaling,
    CanaryDeployment,
    Construct,
    DriftDetector,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    ModelPlatformStack,
    SafetyNet,
    ShadowTest,
)

if TYPE_CHECKING:
    from tfprod.policy.profile import ReferenceData

TEAM = Team(
    stack="recommendation",
    namespace="recommendations",
    bucket="acme-recommendation-models",
    storage_account="acmerecmodels",
)


def build(scope: Construct, cloud: str) -> ModelPlatformStack:
    """The recommendation platform on `cloud`."""
    stack = platform(scope, TEAM, cloud)
    declare_engine(stack, reference_data=training_features(), feature_names=FEATURE_NAMES)
    return stack


FEATURE_NAMES = ("user_tenure", "session_length", "items_viewed", "price_sensitivity")
"""The engine's input features, in the order its requests list them."""


def declare_engine(
    stack: ModelPlatformStack,
    *,
    reference_data: str | ReferenceData,
    feature_names: Sequence[str] | None = None,
) -> ModelDeployment:
    """The proposal's recommendation engine, as written there, in `stack`; `reference_data`
    (training data, or a stored profile's URI) and `feature_names` go to its drift
    detector."""
    engine = ModelDeployment(
        stack,
        "recommendation-engine",
        name="recommendation-engine",
        model=stack.registry.model("rec"),
        version="rec-v2.0.0",
        environment="production",
        scaling=AutoScaling(
            min_replicas=2, max_replicas=20, target_cpu_percent=70, target_requests_per_second=1000
        ),
    )
    ABTest(
        engine,
        "ab-test",
        name="recommendation-algorithm-test",
        model_a="rec-v2.0.0",
        model_b="rec-v2.1.0",
        traffic_split=0.1,
        success_metrics=["click_through_rate", "conversion_rate", "revenue_per_user"],
        duration_days=14,
        min_sample_size=10000,
        significance_level=0.05,
    )
    CanaryDeployment(
        engine,
        "canary",
        new_model="rec-v2.1.1",
        traffic_percentage=5,
        ramp_up_schedule="linear_10_minutes",
        success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
    )
    ShadowTest(
        engine,
        "shadow",
        candidate="rec-v2.2.0",
        mirror_percentage=100,
        compare_outputs=True,
        duration="1h",
    )
    ModelMonitor(
        engine,
        "monitor",
        metrics=["prediction_latency", "prediction_confidence", "feature_drift", "error_rate"],
        alerts={"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"},
    )
    DriftDetector(
        engine,
        "drift",
        reference_data=reference_data,
        feature_names=feature_names,
        alert_threshold=0.1,
        detection_window="1h",
    )
    SafetyNet(
        engine,
        "safety",
        fallback_model="rec-v2.0.0",
        triggers={
            "error_rate > 5%": "immediate_rollback",
            "latency_p95 > 200ms": "gradual_rollback",
            "drift_score > 0.2": "alert_and_monitor",
        },
    )
    ModelDebugger(engine, "debugger", capture_rate=0.01, features=["lime", "shap", "gradients"])
    return engine
