"""The gateway's metrics in front of the real model server (`tfprod serve` subprocesses): a
killed or erroring canary shows as the canary's failures with exact counts while the fallback
answers, and NaN predictions leave `/metrics` parseable by both parsers."""

from __future__ import annotations

import math
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.conftest import BODY, Stack, metric, wait_for
from tests.gateway.model_server import export_versions, model_server
from tests.gateway.scrape import parsed_by_both
from tests.gateway.upstream import ServerThread

pytestmark = pytest.mark.slow
PREDICT = "/v1/models/clf:predict"
REQUESTS = "tfprod_gateway_requests_total"
TIMED = "tfprod_gateway_request_duration_seconds_count"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Versions 1 (stable, also the fallback) and 2 (the canary) of the tiny classifier, and
    version 3, the sum model, which turns NaN and infinite features into such predictions."""
    return export_versions(tmp_path_factory.mktemp("metrics-models"), {1: 0, 2: 1}, sums=(3,))


@pytest.fixture(scope="module")
def stable_server(models: Path) -> Iterator[str]:
    with model_server(models) as (_process, url):
        yield url


def canary_route(stable: str, canary: str) -> dict[str, Any]:
    """All traffic to the canary (version 2 at `canary`), falling back to version 1."""
    return {
        "routes": [
            {
                "model": "clf",
                "variants": [
                    {"name": "stable", "url": stable, "model_name": "clf", "version": 1,
                     "weight": 0},
                    {"name": "canary", "url": canary, "model_name": "clf", "version": 2,
                     "weight": 1},
                ],
                "fallback": {"name": "fallback", "url": stable, "model_name": "clf",
                             "version": 1},
            }
        ],
        # Every request reaches the canary, so each failure is one attempt it made.
        "breaker": {"failure_threshold": 1000, "open_seconds": 60},
    }  # fmt: skip


def test_a_killed_canary_shows_as_its_own_failures_while_the_fallback_answers(
    models: Path, stable_server: str, stack: Stack
) -> None:
    with model_server(models) as (canary_process, canary):
        client = stack.start(canary_route(stable_server, canary))
        before = [client.post(PREDICT, content=BODY) for _ in range(4)]
        canary_process.send_signal(signal.SIGKILL)
        canary_process.wait(30)
        after = [client.post(PREDICT, content=BODY) for _ in range(9)]

    direct = httpx.post(f"{stable_server}/v1/models/clf/versions/1:predict", content=BODY)
    assert [(a.status_code, a.headers["X-Tfprod-Variant"]) for a in before] == [(200, "canary")] * 4
    assert [(a.status_code, a.content) for a in after] == [(200, direct.content)] * 9
    assert {a.headers["X-Tfprod-Variant"] for a in after} == {"fallback"}
    labels = {"model": "clf", "variant": "canary"}
    assert metric(client, REQUESTS, code="200", **labels) == 4
    assert metric(client, REQUESTS, code="503", outcome="fell_back", **labels) == 9
    assert metric(client, REQUESTS, model="clf", variant="fallback", code="200") == 9
    assert metric(client, TIMED, **labels) == 13
    parsed_by_both(client.get("/metrics").text)


def answering_500() -> web.Application:
    async def fail(_request: web.Request) -> web.Response:
        return web.json_response({"error": "canary broke"}, status=500)

    app = web.Application()
    app.router.add_post("/v1/models/{tail:.+}", fail)
    return app


def test_a_canary_answering_500_shows_as_its_own_failures(
    stable_server: str, stack: Stack, servers: ServerThread
) -> None:
    canary = servers.serve(answering_500)
    client = stack.start(canary_route(stable_server, canary))

    answers = [client.post(PREDICT, content=BODY) for _ in range(6)]

    assert [(a.status_code, a.headers["X-Tfprod-Variant"]) for a in answers] == [
        (200, "fallback")
    ] * 6
    labels = {"model": "clf", "variant": "canary"}
    assert metric(client, REQUESTS, code="500", outcome="fell_back", **labels) == 6
    assert metric(client, REQUESTS, code="200", **labels) == 0
    assert metric(client, REQUESTS, model="clf", variant="fallback", code="200") == 6


def test_nan_and_infinite_predictions_of_the_real_model_server_leave_metrics_parseable(
    stable_server: str, stack: Stack
) -> None:
    client = stack.start(
        {"routes": [{"model": "clf", "variants": [
            {"name": "sum", "url": stable_server, "model_name": "clf", "version": 3,
             "weight": 1}]}]}
    )  # fmt: skip
    rows = (
        b'{"instances": [[NaN, 0, 0, 0], [Infinity, 0, 0, 0], [Infinity, -Infinity, 0, 0],'
        b" [-Infinity, 0, 0, 0], [0.25, 0.25, 0.25, 0]]}"
    )

    answers = [client.post(PREDICT, content=rows) for _ in range(3)]

    # The model server writes the non-finite predictions as bare tokens.
    assert {a.status_code for a in answers} == {200}
    assert {"".join(a.text.split()) for a in answers} == {
        '{"predictions":[[NaN],[Infinity],[NaN],[-Infinity],[0.75]]}'
    }
    labels = {"model": "clf", "variant": "sum"}
    wait_for(
        lambda: metric(client, "tfprod_gateway_prediction_nonfinite_total", **labels) == 12,
        "the twelve non-finite rows to be counted",
    )
    text = client.get("/metrics").text
    assert parsed_by_both(text)["tfprod_gateway_prediction_nonfinite"] == "counter"
    # Only the finite row (0.75, so confidence max(0.75, 0.25)) reached the histogram.
    assert metric(client, "tfprod_gateway_prediction_confidence_count", **labels) == 3
    assert metric(client, "tfprod_gateway_prediction_confidence_sum", **labels) == 2.25
    values = [s.value for f in text_string_to_metric_families(text) for s in f.samples]
    assert all(math.isfinite(value) for value in values)
