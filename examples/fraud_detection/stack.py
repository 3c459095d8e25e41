"""Card-fraud scoring, where a bad model costs money within minutes.

`fraud-scorer` answers the payment path: it scales on request rate from three replicas, a new
version ramps in exponentially only while its error rate and p99 latency hold, a release
candidate is shadowed on a quarter of traffic for a day, and any error or latency breach rolls
back at once. Every decline must be explainable, so SHAP explanations are captured for 5% of
requests. `merchant-risk`, still in staging, A/B tests a model that should lower chargebacks
(a custom business metric where lower is better, given in its typed form).
"""

from __future__ import annotations

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
from tfprod.policy import SuccessMetric

TEAM = Team(
    stack="fraud",
    namespace="fraud",
    bucket="acme-fraud-models",
    storage_account="acmefraudmodels",
)
ALERTS = {
    "slack": "#fraud-ml",
    "email": ["fraud-ml@company.com", "payments-oncall@company.com"],
    "pagerduty": "fraud-on-call",
}


def build(scope: Construct, cloud: str) -> ModelPlatformStack:
    """The fraud platform on `cloud`."""
    stack = platform(scope, TEAM, cloud)
    _fraud_scorer(stack)
    _merchant_risk(stack)
    return stack


def _fraud_scorer(stack: ModelPlatformStack) -> ModelDeployment:
    scorer = ModelDeployment(
        stack,
        "fraud-scorer",
        name="fraud-scorer",
        model=stack.registry.model("fraud"),
        version="fraud-v5.3.0",
        environment="production",
        scaling=AutoScaling(min_replicas=3, max_replicas=30, target_requests_per_second=2000),
    )
    CanaryDeployment(
        scorer,
        "canary",
        new_model="fraud-v5.4.0",
        traffic_percentage=2,
        ramp_up_schedule="exponential_30_minutes",
        success_criteria={"error_rate": "< 0.5%", "latency_p99": "< 50ms"},
    )
    ShadowTest(
        scorer,
        "shadow",
        candidate="fraud-v6.0.0-rc1",
        mirror_percentage=25,
        compare_outputs=True,
        duration="24h",
    )
    ModelMonitor(
        scorer,
        "monitor",
        metrics=["prediction_latency", "prediction_confidence", "feature_drift", "error_rate"],
        alerts=ALERTS,
    )
    DriftDetector(
        scorer,
        "drift",
        reference_data=training_features(),
        feature_names=["amount", "merchant_risk", "velocity_1h", "distance_km"],
        alert_threshold=0.05,
        detection_window="30m",
    )
    SafetyNet(
        scorer,
        "safety",
        fallback_model="fraud-v5.3.0",
        triggers={
            "error_rate > 1%": "immediate_rollback",
            "latency_p99 > 100ms": "immediate_rollback",
            "drift_score > 0.15": "alert_and_monitor",
        },
    )
    ModelDebugger(scorer, "debugger", capture_rate=0.05, features=["shap"])
    return scorer


def _merchant_risk(stack: ModelPlatformStack) -> ModelDeployment:
    risk = ModelDeployment(
        stack,
        "merchant-risk",
        name="merchant-risk",
        model=stack.registry.model("merchant-risk"),
        version="risk-v1.4.0",
        environment="staging",
        replicas=2,
    )
    ABTest(
        risk,
        "ab-test",
        name="merchant-risk-chargebacks",
        model_a="risk-v1.4.0",
        model_b="risk-v1.5.0",
        traffic_split=0.5,
        success_metrics=[SuccessMetric(name="chargeback_rate", direction="decrease")],
        duration_days=7,
        min_sample_size=5000,
        significance_level=0.01,
    )
    ModelMonitor(risk, "monitor", metrics=["error_rate", "prediction_latency"], alerts=ALERTS)
    return risk
