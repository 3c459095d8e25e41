"""NaN and infinite predictions neither break `/metrics` nor poison the confidence sums."""

from __future__ import annotations

import math

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.conftest import Stack, metric, wait_for
from tests.gateway.scrape import parsed_by_both

PREDICT = "/v1/models/clf:predict"
# The upstream answers the case the body names, with bare tokens, as TF Serving and
# `tfprod serve` write non-finite floats.
ANSWERS = {
    "nan": b'{"predictions": [[NaN], [0.8]]}',
    "inf": b'{"predictions": [[Infinity], [-Infinity]]}',
    "mixed": b'{"predictions": [[0.2, NaN, 0.7]]}',
}


def fixed_answers() -> web.Application:
    async def predict(request: web.Request) -> web.Response:
        return web.Response(
            body=ANSWERS[(await request.json())["case"]], content_type="application/json"
        )

    app = web.Application()
    app.router.add_post("/v1/models/{tail:.+}", predict)
    return app


def test_non_finite_rows_are_counted_apart_and_every_scrape_parses(stack: Stack) -> None:
    stack.urls["odd"] = stack.servers.serve(fixed_answers)
    client = stack.start({"routes": [{"model": "clf", "variants": [
        {"name": "odd", "url": stack.urls["odd"], "weight": 1}]}]})  # fmt: skip

    for case in ("nan", "inf", "mixed", "nan"):
        answer = client.post(PREDICT, json={"instances": [[1, 2, 3, 4]], "case": case})
        assert (answer.status_code, answer.content) == (200, ANSWERS[case])

    labels = {"model": "clf", "variant": "odd"}
    wait_for(
        lambda: metric(client, "tfprod_gateway_prediction_nonfinite_total", **labels) == 5,
        "the non-finite rows to be counted",
    )
    text = client.get("/metrics").text
    assert parsed_by_both(text)["tfprod_gateway_prediction_confidence"] == "histogram"
    # Only the two finite rows (0.8 twice) reached the histogram.
    assert metric(client, "tfprod_gateway_prediction_confidence_count", **labels) == 2
    assert metric(client, "tfprod_gateway_prediction_confidence_sum", **labels) == pytest.approx(
        1.6
    )
    values = [
        sample.value for family in text_string_to_metric_families(text) for sample in family.samples
    ]
    assert all(math.isfinite(value) for value in values)


def test_a_non_finite_shadow_answer_is_an_error_not_a_difference(stack: Stack) -> None:
    stack.upstream("stable")
    stack.urls["odd"] = stack.servers.serve(fixed_answers)
    client = stack.start({"routes": [{"model": "clf",
        "variants": [{"name": "stable", "url": stack.urls["stable"], "weight": 1}],
        "shadows": [{"name": "odd", "url": stack.urls["odd"]}]}]})  # fmt: skip
    shadow = {"model": "clf", "shadow": "odd"}

    client.post(PREDICT, json={"instances": [[1, 2, 3, 4]], "case": "nan"})

    wait_for(
        lambda: (
            metric(client, "tfprod_gateway_shadow_requests_total", outcome="error", **shadow) == 1
        ),
        "the shadow comparison",
    )
    parsed_by_both(client.get("/metrics").text)
    assert metric(client, "tfprod_gateway_shadow_abs_difference_count", **shadow) == 0
