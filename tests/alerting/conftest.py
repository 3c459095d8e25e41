"""Policies and tool lookups shared by the alerting tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.services import skip_or_fail
from tfprod.policy import Policy

REGISTRY = "s3://rec-models/registry"


def version(version_id: str, role: str) -> dict[str, str]:
    return {
        "id": version_id,
        "artifact": f"{REGISTRY}/models/rec/versions/{version_id}",
        "role": role,
    }


def proposal_policy(**changes: Any) -> Policy:
    """The proposal's recommendation-engine example, as the constructs would write it."""
    document: dict[str, Any] = {
        "name": "recommendation-engine",
        "namespace": "ml",
        "environment": "production",
        "model": "rec",
        "versions": [
            version("rec-v2.0.0", "stable"),
            version("rec-v2.1.0", "canary"),
            version("rec-v2.2.0", "shadow"),
        ],
        "traffic": {"weights": {"rec-v2.0.0": 95, "rec-v2.1.0": 5}},
        "canary": {
            "version": "rec-v2.1.0",
            "steps": [[5, 60], [50, 60]],
            "success_criteria": {"error_rate": "< 1%", "latency_p95": "< 100ms"},
        },
        "shadow": {"version": "rec-v2.2.0"},
        "monitor": {
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
        "drift": {
            "reference_uri": "s3://training-data/features.parquet",
            "threshold": 0.1,
            "window_seconds": "1h",
        },
        "safety": {
            "fallback_version": "rec-v2.0.0",
            "triggers": {
                "error_rate > 5%": "immediate_rollback",
                "latency_p95 > 200ms": "gradual_rollback",
                "drift_score > 0.2": "alert_and_monitor",
            },
        },
        "debugger": {"capture_rate": 0.01, "explainers": ["lime", "shap", "gradients"]},
    }
    document.update(changes)
    return Policy.model_validate(document)


def minimal_policy(**changes: Any) -> Policy:
    """One stable version, no sections: only the built-in records and no-data alerts."""
    document: dict[str, Any] = {
        "name": "fraud",
        "namespace": "ml",
        "environment": "staging",
        "model": "fraud",
        "versions": [version("fraud-v1", "stable")],
        "traffic": {"weights": {"fraud-v1": 100}},
    }
    document.update(changes)
    return Policy.model_validate(document)


def tool(name: str) -> str:
    """Path of a Prometheus tool (Debian packages prometheus, prometheus-alertmanager)."""
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"{name} is not installed (scripts/install-system-deps.sh installs it)")
    assert found is not None
    return found


@pytest.fixture
def promtool() -> str:
    return tool("promtool")


@pytest.fixture
def amtool() -> str:
    return tool("amtool")


@pytest.fixture
def secret_files(tmp_path: Path) -> Path:
    """Dummy secret files where the operator would mount Secrets; no real secret anywhere."""
    root = tmp_path / "secrets"
    for name, content in (
        ("tfprod-alerts/slack-webhook-url", "http://127.0.0.1:9/dummy-webhook"),
        ("tfprod-alerts/pagerduty-routing-key", "dummy-routing-key"),
        ("tfprod-alerts/smtp-password", "dummy-password"),
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root
