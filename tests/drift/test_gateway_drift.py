"""Drift on a real gateway's /metrics: `tfprod gateway --policies` in front of `tfprod serve`
(the tiny classifier), with two deployments whose Policies have a drift section: one reads
the profile stored with a registry version, the other a profile document that also profiles
the model's predictions (output drift). Traffic with feature f0 shifted is flagged on f0."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from examples.toy_models import FEATURES, export_tiny_classifier
from tests.gateway.processes import Process, gateway, model_server
from tfprod.policy import Policy, policy_json
from tfprod.runtime.drift import DRIFT_EDGES
from tfprod.runtime.registry import Registry, build_profile

pytestmark = pytest.mark.slow


def policy(name: str, reference_uri: str) -> Policy:
    artifact = "file:///registry/models/rec/versions/1"
    return Policy.model_validate(
        {
            "name": name,
            "environment": "staging",
            "model": "rec",
            "versions": [{"id": "rec-v1", "artifact": artifact, "role": "stable"}],
            "traffic": {"weights": {"rec-v1": 100}},
            "drift": {"reference_uri": reference_uri, "threshold": 0.1, "window_seconds": "1h"},
        }
    )


@dataclass(kw_only=True)
class Running:
    gateway: Process
    server: Process


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("gateway-drift")
    export_tiny_classifier(root / "model" / "1", seed=0)
    reference = np.random.default_rng(0).normal(size=(5_000, FEATURES))
    registry = Registry.open(f"file://{root / 'registry'}")
    registry.register(root / "model" / "1", name="rec", version="1", reference_data=reference)
    server = model_server(root / "model", "rec", root / "serve.log")
    try:
        answer = httpx.post(
            f"{server.url}/v1/models/rec:predict",
            json={"instances": reference.tolist()}, timeout=60,
        )  # fmt: skip
        predictions = np.array(answer.json()["predictions"])
        document = build_profile(reference, drift_edges=DRIFT_EDGES, predictions=predictions)
        (root / "profile.json").write_text(json.dumps(document.to_json()))
        policies = root / "policies"
        uris = {
            "scorer": f"file://{root / 'registry'}/models/rec/versions/1",
            "ranker": f"file://{root}/profile.json",
        }
        for name, uri in uris.items():
            (policies / name).mkdir(parents=True)
            (policies / name / "policy.json").write_text(policy_json(policy(name, uri)))
            (policies / name / "endpoints.json").write_text(json.dumps({"rec-v1": server.url}))
        process = gateway(
            "--policies", str(policies), "--drift-interval", "0.2", log=root / "gateway.log"
        )
        try:
            yield Running(gateway=process, server=server)
        finally:
            process.stop()
    finally:
        server.stop()


def samples(url: str, name: str, deployment: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        sample.labels["feature"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels.get("deployment") == deployment
    }


def send_shifted_traffic(url: str, deployment: str) -> None:
    rows = np.random.default_rng(1).normal(size=(1_000, FEATURES))
    rows[:, 0] += 1.0
    for batch in np.split(rows, 20):
        answer = httpx.post(
            f"{url}/v1/models/{deployment}:predict",
            json={"instances": batch.tolist()}, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text


def wait_for_rows(url: str, deployment: str, rows: float) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        found = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "tfprod_drift_window_rows"
            and sample.labels == {"deployment": deployment, "stream": "input"}
        ]
        if found and found[0] >= rows:
            return
        time.sleep(0.1)
    pytest.fail(f"drift window of {deployment} never reached {rows} rows")


def test_shifted_traffic_shows_as_drift_on_the_shifted_feature(running: Running) -> None:
    url = running.gateway.url
    assert samples(url, "tfprod_drift_score", "scorer") == {}

    send_shifted_traffic(url, "scorer")
    wait_for_rows(url, "scorer", 1_000)

    scores = samples(url, "tfprod_drift_score", "scorer")
    assert sorted(scores) == ["f0", "f1", "f2", "f3"]
    assert scores["f0"] > 0.2 > max(scores["f1"], scores["f2"], scores["f3"])
    assert samples(url, "tfprod_drift_detected", "scorer") == {
        "f0": 1.0, "f1": 0.0, "f2": 0.0, "f3": 0.0,
    }  # fmt: skip


def test_predictions_drift_as_output_features_from_the_profile_document(
    running: Running,
) -> None:
    url = running.gateway.url
    send_shifted_traffic(url, "ranker")
    wait_for_rows(url, "ranker", 1_000)

    scores = samples(url, "tfprod_drift_score", "ranker")
    assert sorted(scores) == ["f0", "f1", "f2", "f3", "output:0"]
    # f0 drives the classifier (weight 1.0 of its training labels): its answers move too.
    assert samples(url, "tfprod_drift_detected", "ranker")["output:0"] == 1.0
    loaded = httpx.get(f"{url}/metrics", timeout=10).text
    assert 'tfprod_drift_reference_loaded{deployment="ranker"} 1' in loaded
    assert 'tfprod_drift_reference_loaded{deployment="scorer"} 1' in loaded
