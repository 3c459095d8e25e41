"""ModelMonitor, DriftDetector, ModelDebugger and SafetyNet: policy sections and bad input."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tfprod.constructs import (
    CanaryDeployment,
    ConstructError,
    DriftDetector,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    SafetyNet,
    SynthError,
)
from tfprod.constructs.app import App
from tfprod.policy import AlertRoutes, SecretRef, parse_condition


def test_monitor_reads_the_proposals_alert_routes(deployment: ModelDeployment) -> None:
    ModelMonitor(
        deployment,
        "monitor",
        metrics=["prediction_latency", "error_rate"],
        alerts={"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"},
    )
    monitor = deployment.policy().monitor
    assert monitor is not None
    assert monitor.metrics == ("prediction_latency", "error_rate")
    assert monitor.alerts == AlertRoutes(
        slack_channel="#ml-alerts",
        emails=("ml-team@company.com",),
        pagerduty_service="ml-on-call",
    )
    assert monitor.alerts.slack_webhook == SecretRef(name="tfprod-alerts", key="slack-webhook-url")


def test_monitor_refuses_a_literal_slack_webhook_without_echoing_it(
    deployment: ModelDeployment,
) -> None:
    webhook = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
    with pytest.raises(ConstructError) as error:
        ModelMonitor(deployment, "monitor", metrics=["error_rate"], alerts={"slack": webhook})
    assert str(error.value) == (
        "ml/rec/monitor: alerts.slack_channel: slack channel looks like a Slack webhook URL;"
        " a policy never holds secrets: store it in a Kubernetes Secret and give"
        " SecretRef(name, key) in slack_webhook"
    )
    assert webhook not in str(error.value)


def test_drift_detector_reads_the_proposals_names(deployment: ModelDeployment) -> None:
    DriftDetector(
        deployment,
        "drift",
        reference_data="s3://training-data/features.parquet",
        alert_threshold=0.1,
        detection_window="1h",
    )
    drift = deployment.policy().drift
    assert drift is not None
    assert drift.model_dump() == {
        "reference_uri": "s3://training-data/features.parquet",
        "threshold": 0.1,
        "window_seconds": 3600.0,
        "method": "psi",
    }


def test_debugger_features_are_the_explainers(deployment: ModelDeployment) -> None:
    ModelDebugger(
        deployment,
        "debugger",
        capture_rate=0.01,
        features=["lime", "shap", "gradients"],
        explain_features=["age", "basket_size"],
    )
    debugger = deployment.policy().debugger
    assert debugger is not None
    assert debugger.model_dump() == {
        "capture_rate": 0.01,
        "explainers": ("lime", "shap", "gradients"),
        "features": ("age", "basket_size"),
        "capture_redact": {},
        "capture_retention": 86_400.0,
    }


def test_debugger_redacts_named_capture_fields_and_bounds_retention(
    deployment: ModelDeployment,
) -> None:
    ModelDebugger(
        deployment,
        "debugger",
        capture_rate=0.01,
        features=["shap"],
        capture_redact={"user_id": "hash", "email": "drop"},
        capture_retention="7d",
    )
    debugger = deployment.policy().debugger
    assert debugger is not None
    assert (debugger.capture_redact, debugger.capture_retention) == (
        {"email": "drop", "user_id": "hash"},
        7 * 86_400,
    )


def test_debugger_refuses_an_unknown_redaction_naming_the_construct(
    deployment: ModelDeployment,
) -> None:
    with pytest.raises(ConstructError) as error:
        ModelDebugger(
            deployment, "debugger", capture_rate=0.01, features=["shap"],
            capture_redact={"email": "mask"},
        )  # fmt: skip
    assert str(error.value) == (
        "ml/rec/debugger: capture_redact: capture_redact['email'] is 'mask'; allowed: drop, hash"
    )


def test_safety_net_on_the_stable_version_adds_no_version(deployment: ModelDeployment) -> None:
    SafetyNet(
        deployment,
        "safety",
        fallback_model="rec-v1",
        triggers={
            "error_rate > 5%": "immediate_rollback",
            "latency_p95 > 200ms": "gradual_rollback",
            "drift_score > 0.2": "alert_and_monitor",
        },
    )
    policy = deployment.policy()
    assert [version.id for version in policy.versions] == ["rec-v1"]
    assert policy.safety is not None
    assert [(trigger.condition, trigger.action) for trigger in policy.safety.triggers] == [
        (parse_condition("error_rate > 5%"), "immediate_rollback"),
        (parse_condition("latency_p95 > 200ms"), "gradual_rollback"),
        (parse_condition("drift_score > 0.2"), "alert_and_monitor"),
    ]


def test_safety_net_keeps_another_fallback_version_warm_without_traffic(
    deployment: ModelDeployment,
) -> None:
    SafetyNet(deployment, "safety", fallback_model="rec-v0", triggers={"error_rate > 5%": "pause"})
    policy = deployment.policy()
    assert policy.version("rec-v0").role == "fallback"
    assert policy.traffic.weights == {"rec-v1": 100.0}
    assert "rec-v0" in deployment.versions


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda d: SafetyNet(
                d, "safety", fallback_model="rec-v1", triggers={"error_rate >> 5%": "pause"}
            ),
            "ml/rec/safety: triggers[0].condition: invalid condition 'error_rate >> 5%':"
            " expected one of <, <=, >, >=, ==, != after 'error_rate' at column 12",
        ),
        (
            lambda d: SafetyNet(
                d, "safety", fallback_model="rec-v1", triggers={"error_rate > 500%": "pause"}
            ),
            "ml/rec/safety: triggers[0].condition: invalid condition 'error_rate > 500%':"
            " error_rate is a ratio; a percentage must be 0 to 100",
        ),
        (
            lambda d: SafetyNet(
                d,
                "safety",
                fallback_model="rec-v1",
                triggers=cast(Any, {"error_rate > 5%": "explode"}),
            ),
            "ml/rec/safety: triggers[0].action: Input should be 'immediate_rollback',"
            " 'gradual_rollback', 'alert_and_monitor' or 'pause'",
        ),
        (
            lambda d: SafetyNet(d, "safety", fallback_model="rec-v1", triggers={}),
            "ml/rec/safety: triggers: safety triggers are empty: give at least one condition"
            " and action",
        ),
        (
            lambda d: DriftDetector(
                d, "drift", reference_data="http://x/y", alert_threshold=0.1, detection_window="1h"
            ),
            "ml/rec/drift: reference_data: reference_uri 'http://x/y' is not valid;"
            " allowed schemes: file://, s3://, gs://, az://",
        ),
        (
            lambda d: DriftDetector(
                d,
                "drift",
                reference_data="s3://x/y",
                alert_threshold=0.1,
                detection_window="1 hour",
            ),
            "ml/rec/drift: detection_window: invalid duration '1 hour': expected one of ms, s, m,"
            " h, d after '1' at column 3",
        ),
        (
            lambda d: ModelDebugger(d, "debugger", capture_rate=0.01, features=["lime", "magic"]),
            "ml/rec/debugger: features: explainer 'magic' is not an explanation method; allowed:"
            " lime, shap, gradients, attention_maps",
        ),
        (
            lambda d: ModelDebugger(d, "debugger", capture_rate=2, features=["lime"]),
            "ml/rec/debugger: capture_rate: Input should be less than or equal to 1 (got 2)",
        ),
        (
            lambda d: ModelMonitor(d, "monitor", metrics=["error rate"]),
            "ml/rec/monitor: metrics: metric 'error rate' is not valid: use letters, digits and"
            " '_', starting with a letter",
        ),
        (
            lambda d: ModelMonitor(d.node.scope, "monitor", metrics=["error_rate"]),
            "ml/monitor: scope: ModelMonitor must be created with a ModelDeployment as its scope,"
            " got ClusterModelPlatform 'ml'; allowed: ModelMonitor(deployment, id, ...)",
        ),
    ],
)
def test_rejects_bad_observability_and_safety_input(
    deployment: ModelDeployment, build: Any, message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        build(deployment)
    assert str(error.value) == message


def test_fallback_to_the_canary_fails_at_synth_naming_the_deployment(
    app: App, deployment: ModelDeployment
) -> None:
    CanaryDeployment(
        deployment, "canary", new_model="rec-v2", traffic_percentage=5, ramp_up_schedule=[(5, 60)]
    )
    SafetyNet(
        deployment,
        "safety",
        fallback_model="rec-v2",
        triggers={"error_rate > 5%": "immediate_rollback"},
    )
    with pytest.raises(SynthError) as error:
        app.synth()
    assert str(error.value) == (
        "ml/rec: safety.fallback_version: 'rec-v2' has role 'canary';"
        " it needs role 'fallback' or 'stable'"
    )
