"""Failures are counted on the variant that failed, and the fallback's answers as its own."""

from __future__ import annotations

from typing import Any

import httpx

from tests.gateway.conftest import BODY, Stack, metric, route

PREDICT = "/v1/models/clf:predict"


def histogram_count(client: httpx.Client, variant: str) -> float:
    return metric(
        client, "tfprod_gateway_request_duration_seconds_count", model="clf", variant=variant
    )


def canary_with_fallback(stack: Stack, *, threshold: int) -> dict[str, Any]:
    config = route(stack, {"stable": 0.0, "canary": 1.0})
    config["routes"][0]["fallback"] = {"name": "fallback", "url": stack.urls["fallback"]}
    config["breaker"] = {"failure_threshold": threshold, "open_seconds": 60}
    return config


def test_a_canary_answering_500_counts_as_the_canarys_failures_that_fell_back(
    stack: Stack,
) -> None:
    for name in ("stable", "canary", "fallback"):
        stack.upstream(name)
    stack.upstreams["canary"].fail_with = 500
    client = stack.start(canary_with_fallback(stack, threshold=100))

    answers = [client.post(PREDICT, content=BODY) for _ in range(7)]

    assert [(a.status_code, a.headers["X-Tfprod-Variant"]) for a in answers] == [
        (200, "fallback")
    ] * 7
    requests = "tfprod_gateway_requests_total"
    labels = {"model": "clf"}
    assert (
        metric(client, requests, variant="canary", code="500", outcome="fell_back", **labels) == 7
    )
    assert metric(client, requests, variant="fallback", code="200", **labels) == 7
    assert metric(client, requests, variant="canary", code="200", **labels) == 0
    # Each attempt is timed on the variant that made it, the failed ones too.
    assert (histogram_count(client, "canary"), histogram_count(client, "fallback")) == (7, 7)


def test_requests_an_open_circuit_refuses_are_failures_of_the_canary_not_timed(
    stack: Stack,
) -> None:
    for name in ("stable", "canary", "fallback"):
        stack.upstream(name)
    stack.upstreams["canary"].fail_with = 503
    client = stack.start(canary_with_fallback(stack, threshold=2))

    statuses = [client.post(PREDICT, content=BODY).status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert stack.upstreams["canary"].received == 2
    requests = "tfprod_gateway_requests_total"
    # Two 503 answers from the canary, then three refusals by its open circuit (503 too).
    assert metric(client, requests, model="clf", variant="canary", code="503",
                  outcome="fell_back") == 5  # fmt: skip
    assert histogram_count(client, "canary") == 2


def test_without_a_fallback_the_failure_the_caller_gets_is_counted_failed(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    stack.upstreams["canary"].fail_with = 500
    client = stack.start(route(stack, {"stable": 0.0, "canary": 1.0}))

    statuses = [client.post(PREDICT, content=BODY).status_code for _ in range(3)]

    assert statuses == [500] * 3
    assert metric(client, "tfprod_gateway_requests_total", model="clf", variant="canary",
                  code="500", outcome="failed") == 3  # fmt: skip


def test_when_the_fallback_fails_too_each_failure_is_counted_where_it_happened(
    stack: Stack,
) -> None:
    stack.upstream("stable")
    stack.upstream("fallback")
    stack.upstreams["fallback"].fail_with = 502
    config = {
        "routes": [
            {
                "model": "clf",
                "variants": [
                    {"name": "stable", "url": stack.urls["stable"], "weight": 0},
                    {"name": "gone", "url": "http://127.0.0.1:9", "weight": 1},
                ],
                "fallback": {"name": "fallback", "url": stack.urls["fallback"]},
            }
        ]
    }
    client = stack.start(config)

    answer = client.post(PREDICT, content=BODY)

    assert (answer.status_code, answer.headers["X-Tfprod-Variant"]) == (502, "fallback")
    requests = "tfprod_gateway_requests_total"
    assert metric(client, requests, model="clf", variant="gone", code="503",
                  outcome="fell_back") == 1  # fmt: skip
    assert metric(client, requests, model="clf", variant="fallback", code="502",
                  outcome="failed") == 1  # fmt: skip
