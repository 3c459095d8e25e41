"""The controller API over an in-memory view: tokens, errors, documents, commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.controller.policies import CANARY, STABLE, canary_policy
from tests.controller_api.view import TOKEN, InMemoryView, ab_policy, declared_status, served
from tfprod.runtime.controller import Command

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def view() -> InMemoryView:
    return InMemoryView({"recommendation-engine": canary_policy(), "ranking": ab_policy()})


@pytest.fixture
def api(view: InMemoryView) -> Iterator[httpx.Client]:
    with served(view, clock=lambda: NOW) as url, httpx.Client(base_url=url) as client:
        yield client


@pytest.mark.parametrize(
    "refused",
    [
        ({}, 401, "controller API needs an 'Authorization: Bearer <token>' header"),
        ({"Authorization": "Bearer wrong"}, 403, "controller token rejected"),
        (
            {"Authorization": TOKEN},
            401,
            "controller API needs an 'Authorization: Bearer <token>' header",
        ),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/deployments"),
        ("GET", "/v1/deployments/ranking/ab"),
        ("POST", "/v1/deployments/ranking/abort"),
    ],
)
def test_every_call_needs_the_token(
    api: httpx.Client,
    view: InMemoryView,
    method: str,
    path: str,
    refused: tuple[dict[str, str], int, str],
) -> None:
    headers, status, error = refused

    answer = api.request(method, path, headers=headers)

    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert TOKEN not in answer.text
    assert view.queued == {}


def test_without_a_token_configured_every_call_is_refused(view: InMemoryView) -> None:
    with served(view, token=None) as url:
        answer = httpx.get(f"{url}/v1/deployments", headers=AUTH)

    assert answer.status_code == 403
    assert answer.json() == {
        "error": "controller API disabled: configure the controller's admin token"
    }


def test_deployments_without_a_status_show_their_declared_weights(api: httpx.Client) -> None:
    answer = api.get("/v1/deployments", headers=AUTH)

    assert answer.status_code == 200
    assert answer.json() == {
        "deployments": [
            {
                "deployment": "ranking",
                "phase": None,
                "weights": {STABLE: 50.0, "rec-v2.2.0": 50.0},
                "step": None,
                "generation": 0,
            },
            {
                "deployment": "recommendation-engine",
                "phase": None,
                "weights": {STABLE: 95.0, CANARY: 5.0},
                "step": None,
                "generation": 0,
            },
        ]
    }


def test_a_status_document_is_shown_as_written(api: httpx.Client, view: InMemoryView) -> None:
    policy = view.policy("recommendation-engine")
    view.statuses["recommendation-engine"] = declared_status(policy, 7, NOW)

    answer = api.get("/v1/deployments/recommendation-engine", headers=AUTH).json()

    assert answer["generation"] == 7
    assert answer["weights"] == {STABLE: 95.0, CANARY: 5.0}
    assert answer["updated_at"] == "2026-12-01T12:00:00+00:00"
    assert answer["writer"] == "test"
    assert (answer["phase"], answer["step"], answer["checks"]) == (None, None, [])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/deployments/fraud",
        "/v1/deployments/fraud/history",
        "/v1/deployments/fraud/ab",
        "/v1/deployments/fraud/pause",
    ],
)
def test_an_unknown_deployment_is_404_naming_the_known_ones(api: httpx.Client, path: str) -> None:
    method = "POST" if path.endswith("pause") else "GET"

    answer = api.request(method, path, headers=AUTH)

    assert answer.status_code == 404
    assert answer.json() == {
        "error": "unknown deployment 'fraud'; deployments: ranking, recommendation-engine"
    }


def test_an_unknown_command_is_404_naming_the_commands(api: httpx.Client) -> None:
    answer = api.post("/v1/deployments/ranking/rollback", headers=AUTH)

    assert answer.status_code == 404
    assert answer.json() == {
        "error": "unknown command 'rollback'; commands: promote, abort, pause, resume"
    }


@pytest.mark.parametrize("kind", ["promote", "abort", "pause", "resume"])
def test_a_command_is_queued_and_answered_202(
    api: httpx.Client, view: InMemoryView, kind: str
) -> None:
    answer = api.post(f"/v1/deployments/ranking/{kind}", headers=AUTH, json={"by": "alice"})

    assert answer.status_code == 202
    assert answer.json() == {"deployment": "ranking", "command": {"kind": kind, "by": "alice"}}
    assert view.queued == {"ranking": [Command(kind=kind, by="alice")]}  # type: ignore[arg-type]


def test_a_command_without_a_body_is_from_the_controller_api(
    api: httpx.Client, view: InMemoryView
) -> None:
    answer = api.post("/v1/deployments/recommendation-engine/pause", headers=AUTH)

    assert answer.status_code == 202
    assert view.take("recommendation-engine") == (Command(kind="pause", by="controller API"),)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"by": "alice", "force": true}', "unknown field 'force'; allowed: by"),
        (b'["alice"]', 'body must be empty or {"by": "<who asked>"}'),
        (b'{"by": 3}', "by: must be a non-empty string of at most 200 characters, got 3"),
        (b'{"by": "  "}', "by: must be a non-empty string of at most 200 characters, got '  '"),
        (
            b"{by",
            "request body is not valid JSON: Expecting property name enclosed in double"
            " quotes: line 1 column 2 (char 1)",
        ),
    ],
)
def test_a_bad_command_body_is_400_naming_what_is_wrong(
    api: httpx.Client, view: InMemoryView, body: bytes, error: str
) -> None:
    answer = api.post("/v1/deployments/ranking/abort", headers=AUTH, content=body)

    assert answer.status_code == 400
    assert answer.json() == {"error": error}
    assert view.queued == {}


def test_ab_results_say_what_is_missing(api: httpx.Client) -> None:
    no_test = api.get("/v1/deployments/recommendation-engine/ab", headers=AUTH).json()
    not_started = api.get("/v1/deployments/ranking/ab", headers=AUTH).json()

    assert no_test == {
        "deployment": "recommendation-engine",
        "ab_test": None,
        "missing": "no A/B test declared",
    }
    assert not_started["metrics"] == []
    assert not_started["missing"] == (
        "the rollout state holds no A/B analysis: the controller has not started this test"
    )
    assert not_started["ab_test"] == {
        "control": STABLE,
        "treatment": "rec-v2.2.0",
        "significance_level": 0.05,
        "duration_seconds": 3600.0,
    }
