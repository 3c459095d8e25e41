"""The proposal's deploy, monitoring, drift, safety-net, canary and debugger snippets, run as
written (only `tf.production.` replaced) on one embedded platform, and what each changes there."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.production.conftest import tiny_model, wait_for
from tfprod import production
from tfprod.policy import ControllerSettings
from tfprod.production.session import current

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Declared:
    deployment: production.Deployment
    monitor: production.ModelMonitor
    drift: production.DriftDetector
    safety_net: production.SafetyNet
    canary: production.CanaryDeployment
    debugger: production.ModelDebugger


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Declared]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TFPROD_HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv("TFPROD_CONTROLLER_URL", raising=False)
        production.shutdown()
        production.configure(
            controller=ControllerSettings(
                check_interval_seconds=1, evaluation_window_seconds=5, min_samples=10
            )
        )
        my_model, model_v2 = tiny_model(1), tiny_model(2)
        training_data = pd.DataFrame(
            np.random.default_rng(0).normal(size=(500, 4)), columns=["a", "b", "c", "d"]
        )
        # The proposal's snippets, with only `tf.production.` replaced by `production.`:
        deployment = production.deploy(
            model=my_model,
            name="recommendation_engine",
            scaling=production.AutoScaling(min_replicas=2, max_replicas=20),
            environment="production",
        )
        monitor = production.ModelMonitor(
            model=deployment,
            metrics={
                "performance": ["latency_p95", "throughput", "error_rate"],
                "quality": ["prediction_confidence", "feature_drift"],
            },
        )
        drift_detector = production.DriftDetector(
            reference_data=training_data, alert_threshold=0.1, detection_window="1h"
        )
        safety_net = production.SafetyNet(
            fallback_model=my_model,
            triggers={
                "error_rate > 5%": "immediate_rollback",
                "latency_p95 > 200ms": "gradual_rollback",
            },
        )
        canary = production.CanaryDeployment(
            new_model=model_v2,
            traffic_percentage=5,
            ramp_up_schedule="linear_10_minutes",
            success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
        )
        debugger = production.ModelDebugger(model=deployment)
        yield Declared(deployment, monitor, drift_detector, safety_net, canary, debugger)
        production.shutdown()


def test_deploy_serves_predictions_with_a_signed_request_id_feedback_accepts(
    declared: Declared,
) -> None:
    answer = declared.deployment.predict(np.zeros((2, 4)))
    assert len(answer.predictions) == 2
    assert answer.version in ("v1", "v2")
    assert answer.request_id.startswith(f"recommendation-engine/{answer.version}/")
    declared.deployment.feedback(answer.request_id, "click_rate")
    assert declared.deployment.url == (
        f"{current().runtime().gateway_url}/v1/models/recommendation-engine"
    )


def test_objects_without_a_deployment_attach_to_the_one_serving_their_model(
    declared: Declared,
) -> None:
    assert declared.drift.deployment.name == "recommendation-engine"
    assert declared.safety_net.deployment.name == "recommendation-engine"
    assert declared.safety_net.fallback_model == "v1"
    assert declared.canary.new_model == "v2"


def test_the_grouped_metrics_dict_is_watched_in_group_order(declared: Declared) -> None:
    assert declared.monitor.metrics == (
        "latency_p95",
        "throughput",
        "error_rate",
        "prediction_confidence",
        "feature_drift",
    )


def test_the_canary_starts_at_5_percent_checked_by_its_criteria_and_the_safety_net(
    declared: Declared,
) -> None:
    status = wait_for(
        declared.canary.status,
        lambda status: status["phase"] != "initializing",
        what="the controller starts the canary",
        seconds=30,
    )
    assert status["phase"] == "progressing"
    assert status["weights"] == {"v1": 95.0, "v2": 5.0}
    assert status["step"]["index"] == 0
    assert status["step"]["steps"] == 10
    assert {check["name"] for check in status["checks"]} == {
        "trigger error_rate > 5% on v2",
        "trigger latency_p95 > 200ms on v2",
        "data",
        "criterion error_rate < 1%",
        "criterion latency_p95 < 100ms",
    }


def test_the_drift_detector_profile_of_the_dataframe_is_loaded_by_the_gateway(
    declared: Declared,
) -> None:
    url = f"{current().runtime().gateway_url}/metrics"
    with urllib.request.urlopen(url) as answer:
        metrics = answer.read().decode()
    assert 'tfprod_drift_reference_loaded{deployment="recommendation-engine"} 1' in metrics
    assert declared.drift.reference_uri.startswith(current().registry_uri.rsplit("/", 1)[0])


def test_explain_prediction_answers_each_method_from_the_explainer(declared: Declared) -> None:
    # Runs against the real explainer behind the gateway (POST /v1/models/{name}:explain).
    explanations: dict[str, Any] = declared.debugger.explain_prediction(
        input_data=np.zeros((1, 4)), methods=["lime", "shap", "gradients", "attention_maps"]
    )
    assert sorted(explanations) == ["attention_maps", "gradients", "lime", "shap"]
    for method, found in explanations.items():
        assert len(found) == 1
        assert found[0].method == method
        assert found[0].version in ("v1", "v2")
        assert sorted(found[0].ranking) == sorted(found[0].attributions)


def test_an_ab_test_whose_model_a_is_not_the_stable_version_is_refused(declared: Declared) -> None:
    with pytest.raises(production.ProductionError) as refused:
        production.ABTest(
            name="t",
            model_a="v2",
            model_b="v1",
            traffic_split=0.1,
            success_metrics=["click_rate"],
            duration_days=1,
            deployment=declared.deployment,
        )
    assert str(refused.value) == (
        "ABTest: model_a is version 'v2', not the stable version of 'recommendation-engine';"
        " allowed: 'v1'"
    )


def test_home_holds_the_registry(declared: Declared) -> None:
    registry = Path(current().registry_uri.removeprefix("file://"))
    assert (registry / "models" / "recommendation-engine").is_dir()
