"""Stacks the construct tests share: the proposal's own example, and reading synthesized JSON.

Regenerate the whole-stack snapshot after an intended change with:

    python -m tests.constructs.stacks tests/constructs/snapshots/proposal.tf.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tfprod.constructs import (
    ABTest,
    App,
    AutoScaling,
    CanaryDeployment,
    DriftDetector,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    SafetyNet,
    ShadowTest,
)
from tfprod.stacks.cluster import ClusterModelPlatform

STACK = "recommendations"
REGISTRY = "s3://ml-models/registry"


def proposal(app: App) -> ModelDeployment:
    """The proposal's example as written there, on a cluster-only platform."""
    stack = ClusterModelPlatform(app, STACK, registry_uri=REGISTRY, namespace="ml")
    deployment = ModelDeployment(
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
        deployment,
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
        deployment,
        "canary",
        new_model="rec-v2.1.1",
        traffic_percentage=5,
        ramp_up_schedule="linear_10_minutes",
        success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
    )
    ShadowTest(
        deployment,
        "shadow",
        candidate="rec-v2.2.0",
        mirror_percentage=100,
        compare_outputs=True,
        duration="1h",
    )
    ModelMonitor(
        deployment,
        "monitor",
        metrics=["prediction_latency", "prediction_confidence", "feature_drift", "error_rate"],
        alerts={"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"},
    )
    DriftDetector(
        deployment,
        "drift",
        reference_data="s3://training-data/features.parquet",
        alert_threshold=0.1,
        detection_window="1h",
    )
    SafetyNet(
        deployment,
        "safety",
        fallback_model="rec-v2.0.0",
        triggers={
            "error_rate > 5%": "immediate_rollback",
            "latency_p95 > 200ms": "gradual_rollback",
            "drift_score > 0.2": "alert_and_monitor",
        },
    )
    ModelDebugger(deployment, "debugger", capture_rate=0.01, features=["lime", "shap", "gradients"])
    return deployment


def synthesized(outdir: Path, stack: str = STACK) -> dict[str, Any]:
    """The synthesized Terraform JSON of `stack` under `outdir`."""
    document: dict[str, Any] = json.loads(
        (outdir / "stacks" / stack / "cdk.tf.json").read_text(encoding="utf-8")
    )
    return document


def by_name(document: dict[str, Any], tf_type: str) -> dict[str, dict[str, Any]]:
    """Resources of `tf_type`, keyed by their Kubernetes `metadata.name`."""
    result: dict[str, dict[str, Any]] = {}
    for resource in document.get("resource", {}).get(tf_type, {}).values():
        metadata = resource["metadata"]
        metadata = metadata[0] if isinstance(metadata, list) else metadata
        result[metadata["name"]] = resource
    return result


def declared_objects(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(resource type or manifest kind, name) of every Kubernetes object Terraform declares."""
    result: set[tuple[str, str]] = set()
    for tf_type, resources in document.get("resource", {}).items():
        for resource in resources.values():
            if tf_type == "kubernetes_manifest":
                manifest = resource["manifest"]
                result.add((manifest["kind"], manifest["metadata"]["name"]))
            else:
                metadata = resource["metadata"]
                metadata = metadata[0] if isinstance(metadata, list) else metadata
                result.add((tf_type, metadata["name"]))
    return result


def synth_proposal(outdir: Path) -> dict[str, Any]:
    app = App(outdir=str(outdir))
    proposal(app)
    app.synth()
    return synthesized(outdir)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        text = json.dumps(synth_proposal(Path(directory)), indent=2, sort_keys=True) + "\n"
    Path(sys.argv[1]).write_text(text, encoding="utf-8")
