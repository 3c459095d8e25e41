"""The explainer's HTTP API and the gateway's forward, with real processes: a file://
registry, `tfprod explainer`, `tfprod serve` and `tfprod gateway`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.explain.models import DOMINANT
from tests.explain.processes import (
    DEPLOYMENT,
    Process,
    config_file,
    debugged_policy,
    explainer,
    gateway,
    model_server,
    mount,
    registry_with_two_versions,
)

pytestmark = pytest.mark.slow
RESULTS = 5
ROW = [1.0, 1.0, 1.0, 1.0]


@dataclass(frozen=True)
class Platform:
    explainer: str
    gateway: str
    plain_gateway: str
    """A gateway without an explainer."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    work = tmp_path_factory.mktemp("explain-http")
    registry = registry_with_two_versions(work)
    started: list[Process] = []
    try:
        server = model_server(registry, work)
        started.append(server)
        policy = debugged_policy(registry, ["gradients", "lime"])
        policies = mount(work / "policies", policy, {"v1": server.url, "v2": server.url})
        explaining = explainer(policies, work, "--results", str(RESULTS))
        started.append(explaining)
        routed = gateway(work, "gateway", "--policies", str(policies),
                         "--explainer-url", explaining.url)  # fmt: skip
        started.append(routed)
        plain = gateway(
            work, "plain", "--config", str(config_file(work / "plain.json", server.url))
        )
        started.append(plain)
        yield Platform(explainer=explaining.url, gateway=routed.url, plain_gateway=plain.url)
    finally:
        for process in reversed(started):
            process.stop()


def explain(base: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{base}/v1/models/{path}:explain", json=body, timeout=120)


def test_a_version_without_a_profile_and_no_captures_explains_against_zeros(
    platform: Platform,
) -> None:
    answer = explain(platform.explainer, f"{DEPLOYMENT}/versions/2",
                     {"instances": [ROW], "method": "gradients"})  # fmt: skip

    assert answer.status_code == 200
    (explained,) = answer.json()["explanations"]
    assert (explained["version"], explained["background"]) == ("v2", "zeros")


@pytest.mark.parametrize("method", ["lime", "shap", "gradients", "attention_maps"])
def test_the_stable_version_explains_against_its_reference_profile(
    platform: Platform, method: str
) -> None:
    answer = explain(platform.explainer, DEPLOYMENT, {"instances": [ROW], "method": method})

    assert answer.status_code == 200
    (explained,) = answer.json()["explanations"]
    assert explained["method"] == method
    assert explained["version"] == "v1"
    assert explained["background"] == "reference_profile"
    assert explained["ranking"][0] == DOMINANT
    assert set(explained["attributions"]) == set(explained["ranking"])
    if method in ("gradients", "attention_maps"):
        assert explained["completeness_error"] < 0.01
    else:
        assert "completeness_error" not in explained


def test_labels_name_policy_roles_and_version_ids(platform: Platform) -> None:
    body = {"instances": [ROW, [0, 0, 0, 2]], "method": "gradients"}
    by_role = explain(platform.explainer, f"{DEPLOYMENT}/labels/canary", body).json()
    by_id = explain(platform.explainer, f"{DEPLOYMENT}/labels/v2", body).json()

    assert [e["version"] for e in by_role["explanations"]] == ["v2", "v2"]
    assert by_role == by_id


BAD_INPUTS = [
    ({"instances": [ROW], "method": "saliency"},
     "method: 'saliency' is not an explanation method; allowed: lime, shap, gradients,"
     " attention_maps"),
    ({"instances": [ROW]},
     "method: missing is not an explanation method; allowed: lime, shap, gradients,"
     " attention_maps"),
    ({"instances": [[1, 2, 3]], "method": "lime"},
     "instances[0]: has 3 values; the model takes 4 features (features_0, features_1,"
     " features_2, features_3)"),
    ({"instances": [], "method": "lime"},
     "instances: must be a non-empty list of rows, got []"),
    ({"method": "lime"}, "instances: missing; give a non-empty list of rows"),
    ({"instances": [ROW], "method": "lime", "baseline": "zeros"},
     "baseline: unknown field; allowed: instances, method"),
    ([ROW], "request body: must be an object with instances, method, got a list"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_INPUTS)
def test_bad_input_is_400_naming_the_field_the_value_and_the_allowed_ones(
    platform: Platform, body: Any, message: str
) -> None:
    for base in (platform.explainer, platform.gateway):
        answer = explain(base, DEPLOYMENT, body)

        assert (answer.status_code, answer.json()) == (400, {"error": message})


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nope", "model 'nope' is not explained (no ModelDebugger); explained: rec-engine"),
        (f"{DEPLOYMENT}/versions/9", "model 'rec-engine' has no version 9; versions: 1, 2"),
        (f"{DEPLOYMENT}/labels/shadow", "model 'rec-engine' has no version with label"
                                        " 'shadow'; labels: v1, v2, stable, canary"),
    ],
)  # fmt: skip
def test_unknown_deployments_versions_and_labels_are_404(
    platform: Platform, path: str, message: str
) -> None:
    answer = explain(platform.explainer, path, {"instances": [ROW], "method": "lime"})

    assert (answer.status_code, answer.json()) == (404, {"error": message})


def test_the_gateway_forwards_explanations_as_the_explainer_gives_them(
    platform: Platform,
) -> None:
    body = {"instances": [ROW], "method": "gradients"}

    through = explain(platform.gateway, f"{DEPLOYMENT}/labels/stable", body)
    direct = explain(platform.explainer, f"{DEPLOYMENT}/labels/stable", body)

    assert through.status_code == 200
    assert through.json() == direct.json()
    listing = httpx.get(f"{platform.gateway}/v1/models/{DEPLOYMENT}/explanations?limit=2")
    assert (
        listing.json()
        == httpx.get(f"{platform.explainer}/v1/models/{DEPLOYMENT}/explanations?limit=2").json()
    )


def test_a_gateway_without_an_explainer_answers_404_naming_the_setting(
    platform: Platform,
) -> None:
    answer = explain(platform.plain_gateway, DEPLOYMENT, {"instances": [ROW], "method": "lime"})
    listing = httpx.get(f"{platform.plain_gateway}/v1/models/{DEPLOYMENT}/explanations")

    message = (
        "explanations of 'rec-engine' need an explainer: this gateway has no explainer_url"
        " (tfprod gateway --explainer-url); declare a ModelDebugger"
    )
    assert (answer.status_code, answer.json()) == (404, {"error": message})
    assert (listing.status_code, listing.json()) == (404, {"error": message})


def test_the_gateway_answers_unknown_deployments_itself(platform: Platform) -> None:
    answer = explain(platform.gateway, "nope", {"instances": [ROW], "method": "lime"})

    assert (answer.status_code, answer.json()) == (
        404, {"error": "Servable not found for request: Latest(nope)"}
    )  # fmt: skip


def test_recent_explanations_are_newest_first_and_bounded(platform: Platform) -> None:
    for value in range(RESULTS + 2):
        row = [float(value), 0.0, 0.0, 0.0]
        assert explain(platform.explainer, DEPLOYMENT,
                       {"instances": [row], "method": "gradients"}).status_code == 200  # fmt: skip

    listing = httpx.get(f"{platform.explainer}/v1/models/{DEPLOYMENT}/explanations",
                        params={"limit": RESULTS}).json()["explanations"]  # fmt: skip

    assert len(listing) == RESULTS
    assert [entry["attributions"]["features_0"] > 0 for entry in listing] == [True] * 5
    predictions = [entry["prediction"] for entry in listing]
    assert predictions == sorted(predictions, reverse=True)  # inputs grew: newest is largest
    assert {entry["source"] for entry in listing} == {"request"}
    too_many = httpx.get(f"{platform.explainer}/v1/models/{DEPLOYMENT}/explanations",
                         params={"limit": RESULTS + 1})  # fmt: skip
    assert (too_many.status_code, too_many.json()) == (
        400, {"error": f"limit: must be a whole number from 1 to {RESULTS}, got '6'"}
    )  # fmt: skip


def counter(url: str, name: str, labels: dict[str, str]) -> float:
    text = httpx.get(f"{url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_captured_requests_are_explained_off_the_request_path(platform: Platform) -> None:
    predicted = httpx.post(f"{platform.gateway}/v1/models/{DEPLOYMENT}:predict",
                           json={"instances": [[3.0, 0.0, 0.0, 0.0]]})  # fmt: skip
    assert predicted.status_code == 200

    deadline = time.monotonic() + 120
    captured: list[dict[str, Any]] = []
    while len(captured) < 2:
        if time.monotonic() > deadline:
            pytest.fail("the captured request was not explained")
        time.sleep(0.2)
        listing = httpx.get(f"{platform.explainer}/v1/models/{DEPLOYMENT}/explanations",
                            params={"limit": RESULTS}).json()["explanations"]  # fmt: skip
        captured = [entry for entry in listing if entry["source"] == "capture"]

    assert sorted(entry["method"] for entry in captured) == ["gradients", "lime"]
    assert {entry["version"] for entry in captured} == {"v1"}
    assert all(entry["ranking"][0] == DOMINANT for entry in captured)
    sent = {"model": DEPLOYMENT, "outcome": "sent"}
    assert counter(platform.gateway, "tfprod_gateway_explain_captures_total", sent) == 1
    ok = {"deployment": DEPLOYMENT, "method": "lime", "outcome": "ok"}
    assert counter(platform.explainer, "tfprod_explanations_total", ok) >= 2
    # The captured rows are now the background of the version without a profile.
    answer = explain(platform.explainer, f"{DEPLOYMENT}/versions/2",
                     {"instances": [ROW], "method": "gradients"})  # fmt: skip
    assert answer.json()["explanations"][0]["background"] == "captured"
