"""The dashboard's files (no token) and the API calls it makes that are new: `/metrics` and
`/explanations` (token, errors, documents), served on 127.0.0.1 as the controller serves them.

The gateway the explanations are read through is an aiohttp app here speaking the explainer
contract (`GET /v1/models/{name}/explanations?limit=N`), or refusing it as a gateway without
an explainer does; the real gateway and explainer are another part's (and its tests')."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.controller.policies import canary_policy
from tests.controller_api.view import TOKEN, InMemoryView
from tests.dashboard_web.served import DEPLOYMENT, EXPLANATION, Controller, explainer_gateway
from tests.gateway.upstream import ServerThread
from tfprod.runtime.controller import Observation, VersionCounters, build_api
from tfprod.runtime.dashboard import Observed, static_files

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    servers = ServerThread()
    yield servers
    servers.close()


@pytest.fixture
def asked() -> list[str]:
    return []


@pytest.fixture
def controller(servers: ServerThread, asked: list[str]) -> Iterator[Controller]:
    gateway = servers.serve(lambda: explainer_gateway(asked))
    running = Controller(servers, [gateway])
    yield running
    servers.run(lambda: running.explanations.__aexit__(None, None, None))


def get(controller: Controller, path: str, **options: Any) -> httpx.Response:
    return httpx.get(f"{controller.url}{path}", timeout=10, **options)


def test_the_page_and_its_files_are_served_without_a_token(controller: Controller) -> None:
    files = static_files()
    assert sorted(files) == ["dashboard.css", "dashboard.js", "index.html"]
    for name, content_type in (
        ("", "text/html; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ):
        answer = get(controller, f"/dashboard/{name}")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == content_type
        assert answer.content == files[name or "index.html"][0]
        assert answer.headers["Content-Security-Policy"].startswith(
            "default-src 'none'; script-src 'self'; style-src 'self';"
        )
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_the_bare_path_redirects_and_an_unknown_file_is_not_found(controller: Controller) -> None:
    redirect = get(controller, "/dashboard")
    assert (redirect.status_code, redirect.headers["Location"]) == (301, "/dashboard/")
    missing = get(controller, "/dashboard/secrets.txt")
    assert (missing.status_code, missing.text) == (404, "no dashboard file 'secrets.txt'")


@pytest.mark.parametrize(
    "refused",
    [
        ({}, 401, "controller API needs an 'Authorization: Bearer <token>' header"),
        ({"Authorization": "Bearer wrong"}, 403, "controller token rejected"),
    ],
)
@pytest.mark.parametrize("path", ["metrics", "explanations"])
def test_the_observation_calls_need_the_token(
    controller: Controller, asked: list[str], path: str, refused: tuple[dict[str, str], int, str]
) -> None:
    headers, status, error = refused
    answer = get(controller, f"/v1/deployments/{DEPLOYMENT}/{path}", headers=headers)

    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert asked == []


def test_metrics_answer_the_controllers_latest_observation(controller: Controller) -> None:
    stable = controller.policy.versions[0].id
    start = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    for seconds, requests, errors in ((0, 100, 2), (10, 160, 5)):
        controller.log.record(
            controller.policy,
            Observed(
                at=start + timedelta(seconds=seconds),
                observation=Observation(
                    versions={stable: VersionCounters(requests=requests, errors=errors)}
                ),
            ),
        )

    answer = get(controller, f"/v1/deployments/{DEPLOYMENT}/metrics", headers=AUTH)

    assert answer.status_code == 200
    assert answer.json() == {
        "deployment": DEPLOYMENT,
        "observed_at": "2026-12-02T12:00:10+00:00",
        "window_seconds": 10.0,
        "source_errors": {},
        "drift": None,
        "versions": [
            {
                "version": stable,
                "requests": 60.0,
                "requests_per_second": 6.0,
                "error_rate": 0.05,
                "p95_latency_seconds": None,
            }
        ],
    }


def test_an_unknown_deployment_is_named_with_the_known_ones(controller: Controller) -> None:
    for path in ("metrics", "explanations"):
        answer = get(controller, f"/v1/deployments/nope/{path}", headers=AUTH)
        assert (answer.status_code, answer.json()) == (
            404,
            {"error": f"unknown deployment 'nope'; deployments: other, {DEPLOYMENT}"},
        )


def test_explanations_come_from_the_gateway_with_the_limit(
    controller: Controller, asked: list[str]
) -> None:
    answer = get(controller, f"/v1/deployments/{DEPLOYMENT}/explanations?limit=2", headers=AUTH)

    assert answer.status_code == 200
    assert answer.json() == {"deployment": DEPLOYMENT, "explanations": [EXPLANATION] * 2}
    assert asked == ["limit=2"]


def test_a_gateway_without_an_explainer_is_shown_as_missing(controller: Controller) -> None:
    answer = get(controller, "/v1/deployments/other/explanations", headers=AUTH)

    gateway = controller.explanations.gateways[0]
    assert answer.json() == {
        "deployment": "other",
        "explanations": [],
        "missing": f"no explainer: GET {gateway}/v1/models/other/explanations answered 404:"
        ' {"error": "no explainer configured"}',
    }


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_a_bad_limit_is_refused_naming_the_allowed_range(
    controller: Controller, asked: list[str], limit: str
) -> None:
    answer = get(
        controller, f"/v1/deployments/{DEPLOYMENT}/explanations", params={"limit": limit},
        headers=AUTH,
    )  # fmt: skip

    assert (answer.status_code, answer.json()) == (
        400,
        {"error": f"limit: must be an integer from 1 to 100, got {limit!r}"},
    )
    assert asked == []


def test_without_a_gateway_address_there_is_no_explainer(servers: ServerThread) -> None:
    controller = Controller(servers, [])
    try:
        answer = get(controller, f"/v1/deployments/{DEPLOYMENT}/explanations", headers=AUTH)
    finally:
        servers.run(lambda: controller.explanations.__aexit__(None, None, None))

    assert answer.json() == {
        "deployment": DEPLOYMENT,
        "explanations": [],
        "missing": "no explainer reachable: this controller observes through Prometheus"
        " and knows no gateway address",
    }


def test_an_api_built_without_observations_says_so(servers: ServerThread) -> None:
    view = InMemoryView({DEPLOYMENT: canary_policy()})
    url = servers.serve(lambda: build_api(view, TOKEN))
    for path, error in (
        ("metrics", "this controller API serves no observations"),
        ("explanations", "this controller API serves no explanations"),
    ):
        answer = httpx.get(f"{url}/v1/deployments/{DEPLOYMENT}/{path}", headers=AUTH)
        assert (answer.status_code, answer.json()) == (404, {"error": error})
