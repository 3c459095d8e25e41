"""Stacks declared with tfprod's constructs and synthesized for the review tests."""

from __future__ import annotations

from pathlib import Path

from tfprod.constructs import (
    ABTest,
    App,
    AutoScaling,
    CanaryDeployment,
    ModelDeployment,
    ModelMonitor,
    SafetyNet,
    ShadowTest,
)
from tfprod.constructs.governance import suppress
from tfprod.stacks.cluster import ClusterModelPlatform


def proposal_app(outdir: Path) -> None:
    """Stack "shop": the proposal's recommendation engine with a canary, a shadow and a
    safety net in production, and a staging A/B test with a suppressed rule and a warning."""
    app = App(outdir=str(outdir))
    stack = ClusterModelPlatform(
        app, "shop", registry_uri="s3://ml-models/registry", namespace="models"
    )
    rec = ModelDeployment(
        stack,
        "recommender",
        name="recommendation-engine",
        model="rec",
        version="rec-v2.0.0",
        environment="production",
        scaling=AutoScaling(
            min_replicas=2, max_replicas=20, target_cpu_percent=70, target_requests_per_second=1000
        ),
    )
    CanaryDeployment(
        rec,
        "canary",
        new_model="rec-v2.1.0",
        traffic_percentage=5,
        ramp_up_schedule="linear_10_minutes",
        success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
    )
    ShadowTest(rec, "shadow", candidate="rec-v2.2.0", mirror_percentage=100, duration="1h")
    SafetyNet(
        rec,
        "safety",
        fallback_model="rec-v2.0.0",
        triggers={
            "error_rate > 5%": "immediate_rollback",
            "latency_p95 > 200ms": "gradual_rollback",
            "drift_score > 0.2": "alert_and_monitor",
        },
    )
    ModelMonitor(
        rec,
        "monitor",
        metrics=["prediction_latency", "error_rate"],
        alerts={"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"},
    )
    search = ModelDeployment(
        stack, "search", name="search-ranker", model="ranker", version="rk-1", environment="staging"
    )
    ABTest(
        search,
        "ab",
        name="ranker-latency",
        model_a="rk-1",
        model_b="rk-2",
        traffic_split=0.2,
        success_metrics=["latency_p95"],
        duration_days=7,
    )
    CanaryDeployment(
        search,
        "canary",
        new_model="rk-3",
        traffic_percentage=1,
        ramp_up_schedule="linear_5_steps_2m",
    )
    suppress(search, "TFP008", "this test is about latency only")
    app.synth()
