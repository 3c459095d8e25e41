"""The proposal's example, written as the proposal writes it and as typed models, and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy, only_error
from tfprod.policy import (
    ABTest,
    AlertRoutes,
    CanaryRamp,
    Condition,
    ControllerSettings,
    Debugger,
    Drift,
    ModelVersion,
    Monitor,
    Policy,
    RampStep,
    SafetyNet,
    SecretRef,
    ShadowTest,
    SuccessMetric,
    Traffic,
    Trigger,
    ramp_steps,
)

VERSIONS = [
    {"id": "rec-v2.0.0", "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
    {"id": "rec-v2.1.0", "artifact": "s3://models/rec/v2.1.0", "role": "canary"},
    {"id": "rec-v2.2.0", "artifact": "gs://models/rec/v2.2.0", "role": "shadow"},
]


def proposal_document() -> dict[str, Any]:
    """The proposal's example with its own written forms, as constructs pass them on."""
    return minimal_policy(
        versions=VERSIONS,
        canary={
            "version": "rec-v2.1.0",
            "steps": ramp_steps("linear_10_minutes", 5),
            "success_criteria": {"error_rate": "< 1%", "latency_p95": "< 100ms"},
        },
        ab_test={
            "control": "rec-v2.0.0",
            "treatment": "rec-v2.1.0",
            "treatment_percent": 10,
            "metrics": ["click_through_rate", "conversion_rate", "revenue_per_user"],
            "duration_seconds": "14d",
            "min_sample_size": 10000,
            "significance_level": 0.05,
        },
        shadow={
            "version": "rec-v2.2.0",
            "mirror_percent": 100,
            "compare_outputs": True,
            "duration_seconds": "1h",
        },
        monitor={
            "metrics": [
                "prediction_latency",
                "prediction_confidence",
                "feature_drift",
                "error_rate",
            ],
            "alerts": {
                "slack": "#ml-alerts",
                "email": ["ml-team@company.com"],
                "pagerduty": "ml-on-call",
            },
        },
        drift={
            "reference_uri": "s3://training-data/features.parquet",
            "threshold": 0.1,
            "window_seconds": "1h",
        },
        safety={
            "fallback_version": "rec-v2.0.0",
            "triggers": {
                "error_rate > 5%": "immediate_rollback",
                "latency_p95 > 200ms": "gradual_rollback",
                "drift_score > 0.2": "alert_and_monitor",
            },
        },
        debugger={"capture_rate": 0.01, "explainers": ["lime", "shap", "gradients"]},
    )


def typed_policy() -> Policy:
    """The same deployment built from typed models only."""
    return Policy(
        name="recommendation-engine",
        environment="production",
        model="rec",
        versions=tuple(ModelVersion.model_validate(version) for version in VERSIONS),
        traffic=Traffic(weights={"rec-v2.0.0": 95, "rec-v2.1.0": 5}),
        canary=CanaryRamp(
            version="rec-v2.1.0",
            steps=tuple(RampStep(percent=5 + 9.5 * step, hold_seconds=60) for step in range(10)),
            success_criteria=(
                Condition(metric="error_rate", op="<", threshold=0.01, unit="ratio"),
                Condition(metric="latency_p95", op="<", threshold=0.1, unit="seconds"),
            ),
        ),
        ab_test=ABTest(
            control="rec-v2.0.0",
            treatment="rec-v2.1.0",
            treatment_percent=10,
            metrics=tuple(
                SuccessMetric(name=name, direction="increase")
                for name in ("click_through_rate", "conversion_rate", "revenue_per_user")
            ),
            min_sample_size=10000,
            duration_seconds=14 * 86400,
        ),
        shadow=ShadowTest(version="rec-v2.2.0", duration_seconds=3600),
        monitor=Monitor(
            metrics=("prediction_latency", "prediction_confidence", "feature_drift", "error_rate"),
            alerts=AlertRoutes(
                slack_channel="#ml-alerts",
                emails=("ml-team@company.com",),
                pagerduty_service="ml-on-call",
            ),
        ),
        drift=Drift(
            reference_uri="s3://training-data/features.parquet", threshold=0.1, window_seconds=3600
        ),
        safety=SafetyNet(
            fallback_version="rec-v2.0.0",
            triggers=(
                Trigger(
                    condition=Condition(metric="error_rate", op=">", threshold=0.05, unit="ratio"),
                    action="immediate_rollback",
                ),
                Trigger(
                    condition=Condition(
                        metric="latency_p95", op=">", threshold=0.2, unit="seconds"
                    ),
                    action="gradual_rollback",
                ),
                Trigger(
                    condition=Condition(metric="drift_score", op=">", threshold=0.2, unit="number"),
                    action="alert_and_monitor",
                ),
            ),
        ),
        debugger=Debugger(capture_rate=0.01, explainers=("lime", "shap", "gradients")),
    )


def test_proposal_forms_read_as_the_typed_equivalent() -> None:
    assert Policy.model_validate(proposal_document()) == typed_policy()


def test_full_policy_round_trips_through_json() -> None:
    policy = typed_policy()

    assert Policy.model_validate_json(policy.model_dump_json()) == policy


def test_defaults_fill_alert_secrets_and_controller_settings() -> None:
    policy = typed_policy()

    assert policy.monitor is not None
    assert policy.monitor.alerts is not None
    assert policy.monitor.alerts.slack_webhook == SecretRef(
        name="tfprod-alerts", key="slack-webhook-url"
    )
    assert policy.monitor.alerts.pagerduty_routing_key == SecretRef(
        name="tfprod-alerts", key="pagerduty-routing-key"
    )
    assert policy.controller == ControllerSettings(
        check_interval_seconds=10,
        evaluation_window_seconds=60,
        failure_threshold=3,
        min_samples=100,
        no_data_bound_seconds=300,
        actuation_bound_seconds=5,
    )


def test_ab_metric_direction_defaults_to_lower_is_better_for_errors_and_latency() -> None:
    test = ABTest.model_validate(
        {
            "control": "a",
            "treatment": "b",
            "treatment_percent": 50,
            "metrics": ["conversion_rate", "error_rate", "latency_p99"],
            "min_sample_size": 1,
            "duration_seconds": "1d",
        }
    )

    assert [(metric.name, metric.direction) for metric in test.metrics] == [
        ("conversion_rate", "increase"),
        ("error_rate", "decrease"),
        ("latency_p99", "decrease"),
    ]


def test_alert_routes_accept_one_email_as_a_string() -> None:
    routes = AlertRoutes.model_validate({"email": "ml-team@company.com"})

    assert routes.emails == ("ml-team@company.com",)


def test_canary_steps_accept_pairs_with_written_durations() -> None:
    ramp = CanaryRamp.model_validate({"version": "v2", "steps": [[5, "2m"], [50, 600]]})

    assert ramp.steps == (
        RampStep(percent=5, hold_seconds=120),
        RampStep(percent=50, hold_seconds=600),
    )


@pytest.mark.parametrize(
    ("model", "fields", "path", "message"),
    [
        (
            CanaryRamp,
            {"version": "v2", "steps": [[5, "1m"], [5, "1m"]]},
            "steps",
            "canary steps must increase: 5% follows 5%",
        ),
        (
            CanaryRamp,
            {"version": "v2", "steps": []},
            "steps",
            "canary steps are empty: give at least one (percent, hold) step",
        ),
        (
            CanaryRamp,
            {"version": "v2", "steps": [[0, "1m"]]},
            "steps.0.percent",
            "percent 0 is not valid: give above 0 and at most 100",
        ),
        (
            CanaryRamp,
            {"version": "v2", "steps": [[5, "1x"]]},
            "steps.0.hold_seconds",
            "invalid duration '1x': expected one of ms, s, m, h, d after '1' at column 2",
        ),
        (
            CanaryRamp,
            {"version": "v2", "steps": [[5, -3]]},
            "steps.0.hold_seconds",
            "duration -3 is not valid: give seconds above 0, or e.g. '30m'",
        ),
        (
            CanaryRamp,
            {"version": "v2", "steps": [[5, 60]], "success_criteria": {"latency_p95": "<< 1s"}},
            "success_criteria",
            "invalid criterion for latency_p95 '<< 1s': expected one of <, <=, >, >=, ==, != at"
            " column 1",
        ),
        (
            SafetyNet,
            {"fallback_version": "v1", "triggers": {"error_rate >> 5%": "immediate_rollback"}},
            "triggers.0.condition",
            "invalid condition 'error_rate >> 5%': expected one of <, <=, >, >=, ==, != after"
            " 'error_rate' at column 12",
        ),
        (
            SafetyNet,
            {"fallback_version": "v1", "triggers": {}},
            "triggers",
            "safety triggers are empty: give at least one condition and action",
        ),
        (
            SafetyNet,
            {"fallback_version": "v1", "triggers": {"error_rate > 5%": "panic"}},
            "triggers.0.action",
            "Input should be 'immediate_rollback', 'gradual_rollback', 'alert_and_monitor' or"
            " 'pause'",
        ),
        (
            ABTest,
            {
                "control": "a",
                "treatment": "b",
                "treatment_percent": 10,
                "metrics": [],
                "min_sample_size": 1,
                "duration_seconds": "1d",
            },
            "metrics",
            "A/B test metrics are empty: name at least one, e.g. conversion_rate",
        ),
        (
            ABTest,
            {
                "control": "a",
                "treatment": "b",
                "treatment_percent": 10,
                "metrics": ["click-through"],
                "min_sample_size": 1,
                "duration_seconds": "1d",
            },
            "metrics.0.name",
            "metric name 'click-through' is not valid: use letters, digits and '_', starting"
            " with a letter",
        ),
        (
            Monitor,
            {"metrics": ["error_rate", "error_rate"]},
            "metrics",
            "metrics repeat: error_rate",
        ),
        (
            Drift,
            {"reference_uri": "http://data/f.parquet", "threshold": 0.1, "window_seconds": "1h"},
            "reference_uri",
            "reference_uri 'http://data/f.parquet' is not valid; allowed schemes: file://, s3://,"
            " gs://, az://",
        ),
        (
            Debugger,
            {"capture_rate": 0.01, "explainers": []},
            "explainers",
            "explainers are empty: choose from lime, shap, gradients, attention_maps",
        ),
        (
            Debugger,
            {"capture_rate": 0.01, "explainers": ["lime", "magic"]},
            "explainers",
            "explainer 'magic' is not an explanation method; allowed: lime, shap, gradients,"
            " attention_maps",
        ),
        (
            Debugger,
            {"capture_rate": 0.01, "explainers": ["shap", "shap"]},
            "explainers",
            "explainers repeat: shap",
        ),
        (
            ControllerSettings,
            {"check_interval_seconds": "1m", "no_data_bound_seconds": "30s"},
            "",
            "no_data_bound_seconds (30) is shorter than check_interval_seconds (60); the bound"
            " must allow at least one check",
        ),
        (
            AlertRoutes,
            {"slack": "ml-alerts"},
            "slack_channel",
            "slack channel 'ml-alerts' is not valid: write '#' and the channel name, e.g."
            " '#ml-alerts'",
        ),
        (
            AlertRoutes,
            {"email": ["ml-team"]},
            "emails",
            "email 'ml-team' is not an address like name@example.com",
        ),
        (
            AlertRoutes,
            {},
            "",
            "alert routes name no destination: give slack, email or pagerduty",
        ),
        (
            SecretRef,
            {"name": "Alerts", "key": "url"},
            "name",
            "secret name 'Alerts' is not a DNS-1123 subdomain: use lower-case letters, digits,"
            " '-' or '.', starting and ending with a letter or digit",
        ),
    ],
)
def test_rejects_bad_section_input(
    model: type[Any], fields: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        model.model_validate(fields)

    assert only_error(excinfo) == (path, message)


SLACK_WEBHOOK = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnop"
ROUTING_KEY = "0123456789abcdef0123456789ABCDEF"


@pytest.mark.parametrize(
    ("routes", "path", "message"),
    [
        (
            {"slack": SLACK_WEBHOOK},
            "slack_channel",
            "slack channel looks like a Slack webhook URL; a policy never holds secrets: store"
            " it in a Kubernetes Secret and give SecretRef(name, key) in slack_webhook",
        ),
        (
            {"slack": "xoxb-1234-5678-abcdef"},
            "slack_channel",
            "slack channel looks like a Slack token; a policy never holds secrets: store it in a"
            " Kubernetes Secret and give SecretRef(name, key) in slack_webhook",
        ),
        (
            {"pagerduty": ROUTING_KEY},
            "pagerduty_service",
            "pagerduty service looks like a PagerDuty routing key; a policy never holds secrets:"
            " store it in a Kubernetes Secret and give SecretRef(name, key) in"
            " pagerduty_routing_key",
        ),
        (
            {"email": ["smtp://alerts:hunter2@mail.example.com"]},
            "emails",
            "email address looks like a URL with credentials; a policy never holds secrets:"
            " store it in a Kubernetes Secret and give SecretRef(name, key) in smtp",
        ),
    ],
)
def test_rejects_literal_secrets_without_repeating_them(
    routes: dict[str, Any], path: str, message: str
) -> None:
    document = minimal_policy(monitor={"metrics": ["error_rate"], "alerts": routes})

    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(document)

    assert only_error(excinfo) == (f"monitor.alerts.{path}", message)
    secret = next(iter(routes.values()))
    secret = secret[0] if isinstance(secret, list) else secret
    assert secret not in str(excinfo.value)


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        (
            {
                "canary": {"version": "rec-v2.0.0", "steps": [[95, 60]]},
                "traffic": {"weights": {"rec-v2.0.0": 95, "rec-v2.1.0": 5}},
            },
            "canary.version",
            "'rec-v2.0.0' has role 'stable'; it needs role 'canary'",
        ),
        (
            {"canary": {"version": "rec-v2.1.0", "steps": [[10, 60]]}},
            "canary.steps.0.percent",
            "the first step is 10% but traffic.weights gives 'rec-v2.1.0' 5%; they must match",
        ),
        (
            {"shadow": {"version": "rec-v9"}},
            "shadow.version",
            "'rec-v9' is not a declared version; declared: rec-v2.0.0, rec-v2.1.0",
        ),
        (
            {
                "safety": {
                    "fallback_version": "rec-v2.1.0",
                    "triggers": {"error_rate > 5%": "pause"},
                }
            },
            "safety.fallback_version",
            "'rec-v2.1.0' has role 'canary'; it needs role 'fallback' or 'stable'",
        ),
    ],
)
def test_rejects_sections_naming_wrong_versions(
    overrides: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(minimal_policy(**overrides))

    assert only_error(excinfo) == (path, message)


def test_rejects_ab_test_of_a_canary_against_itself() -> None:
    ab_test = {
        "control": "rec-v2.1.0",
        "treatment": "rec-v2.1.0",
        "treatment_percent": 5,
        "metrics": ["conversion_rate"],
        "min_sample_size": 100,
        "duration_seconds": "7d",
    }

    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(minimal_policy(ab_test=ab_test))

    assert [(error["loc"], error["msg"]) for error in excinfo.value.errors()] == [
        (("ab_test", "control"), "'rec-v2.1.0' has role 'canary'; it needs role 'stable'"),
        (
            ("ab_test", "treatment"),
            "'rec-v2.1.0' is also the control; an A/B test needs two versions",
        ),
    ]
