"""The gateway in front of fake TF Serving upstreams: forwarding, routing, shadows, capture,
feedback, breakers and the admin API."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
import httpx
import pytest

from tests.gateway.conftest import ADMIN_TOKEN, BODY, Stack, admin_headers, metric, route, wait_for

PREDICT = "/v1/models/clf:predict"


def test_forwards_the_upstream_answer_byte_for_byte(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}))
    direct = httpx.post(f"{stack.urls['stable']}{PREDICT}", content=BODY)
    answer = client.post(PREDICT, content=BODY)
    assert (answer.status_code, answer.content) == (200, direct.content)
    assert answer.headers["X-Tfprod-Variant"] == "stable"
    assert answer.headers["Content-Type"] == "application/json"


def test_passes_the_upstreams_400_through_unchanged(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}))
    answer = client.post(PREDICT, content=b'{"instances": [[1, 2]]}')
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "each instance must be 4 finite numbers"},
    )


def test_keeps_a_callers_request_id_and_makes_one_otherwise(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}))
    given = client.post(PREDICT, content=BODY, headers={"X-Request-Id": "req-42"})
    made = [client.post(PREDICT, content=BODY).headers["X-Request-Id"] for _ in range(2)]
    assert given.headers["X-Request-Id"] == "req-42"
    assert made[0] != made[1]


def test_unknown_model_and_pinned_version_answer_404_in_tf_serving_shape(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0})
    config["routes"][0]["variants"][0]["version"] = 3
    client = stack.start(config)
    assert client.post("/v1/models/other:predict", content=BODY).json() == {
        "error": "Servable not found for request: Latest(other)"
    }
    answer = client.post("/v1/models/clf/versions/4:predict", content=BODY)
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": "model 'clf' has no variant with version '4'; versions: 3"},
    )
    assert client.post("/v1/models/clf/versions/3:predict", content=BODY).status_code == 200
    assert client.post("/v1/models/clf/labels/stable:predict", content=BODY).status_code == 200
    assert client.post("/v1/models/clf:explode", content=BODY).status_code == 404


def test_model_status_is_read_from_the_first_variant(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}))
    status = client.get("/v1/models/clf").json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"


def test_routes_by_weight_and_exports_the_weights(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    client = stack.start(route(stack, {"stable": 0.75, "canary": 0.25}))
    served = [client.post(PREDICT, content=BODY).headers["X-Tfprod-Variant"] for _ in range(400)]
    assert served.count("canary") / len(served) == pytest.approx(0.25, abs=0.07)
    assert metric(client, "tfprod_gateway_traffic_weight", model="clf", variant="canary") == 0.25
    assert metric(
        client, "tfprod_gateway_requests_total", model="clf", variant="canary", code="200"
    ) == served.count("canary")


@pytest.mark.parametrize(
    ("sticky", "how"),
    [
        ({"source": "header", "name": "X-User"}, "header"),
        ({"source": "cookie", "name": "uid"}, "cookie"),
        ({"source": "field", "name": "user_id"}, "field"),
    ],
)
def test_sticky_users_stay_in_the_canary_while_it_ramps_from_5_to_50_percent(
    stack: Stack, sticky: dict[str, str], how: str
) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    client = stack.start(route(stack, {"stable": 0.95, "canary": 0.05}, sticky=sticky))
    users = [f"user-{i}" for i in range(150)]

    def variant(user: str) -> str:
        if how == "header":
            answer = client.post(PREDICT, content=BODY, headers={"X-User": user})
        elif how == "cookie":
            answer = client.post(PREDICT, content=BODY, headers={"Cookie": f"uid={user}"})
        else:
            body = {"user_id": user, "instances": [[1.0, 2.0, 3.0, 4.0]]}
            answer = client.post(PREDICT, content=json.dumps(body))
        return answer.headers["X-Tfprod-Variant"]

    in_canary: set[str] = set()
    for percent in (5, 10, 20, 35, 50):
        weights = {"weights": {"stable": 100 - percent, "canary": percent}}
        put = client.put("/admin/v1/models/clf/weights", json=weights, headers=admin_headers())
        assert put.status_code == 200
        now = {user for user in users if variant(user) == "canary"}
        assert in_canary <= now, f"users left the canary at {percent}%: {in_canary - now}"
        assert {variant(user) for user in now} == {"canary"}  # the same answer every time
        in_canary = now
    assert len(in_canary) / len(users) == pytest.approx(0.5, abs=0.12)


def test_a_body_field_key_needs_valid_json(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}, sticky={"source": "field", "name": "u"}))
    answer = client.post(PREDICT, content=b'{"u": ')
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "request body is not valid JSON: Expecting value: line 1 column 7 (char 6)"},
    )


def test_100_weight_changes_under_load_lose_no_request(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    stack.start(route(stack, {"stable": 0.5, "canary": 0.5}))

    async def load_and_flip() -> tuple[dict[int, int], dict[str, int], int]:
        statuses: dict[int, int] = {}
        variants: dict[str, int] = {}
        flips = 0
        done = asyncio.Event()
        async with aiohttp.ClientSession(base_url=stack.url) as session:

            async def worker() -> None:
                while not done.is_set():
                    async with session.post(PREDICT, data=BODY) as answer:
                        await answer.read()
                        statuses[answer.status] = statuses.get(answer.status, 0) + 1
                        name = answer.headers["X-Tfprod-Variant"]
                        variants[name] = variants.get(name, 0) + 1

            async def flipper() -> None:
                nonlocal flips
                for i in range(100):
                    canary = (i % 10) * 10  # percent
                    body = {"weights": {"stable": 100 - canary, "canary": canary}}
                    path = "/admin/v1/models/clf/weights"
                    async with session.put(path, json=body, headers=admin_headers()) as answer:
                        assert answer.status == 200
                        flips += 1
                    await asyncio.sleep(0.005)
                done.set()

            await asyncio.gather(flipper(), *(worker() for _ in range(16)))
        return statuses, variants, flips

    statuses, variants, flips = asyncio.run(load_and_flip())
    assert flips == 100
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) >= 500
    assert set(variants) == {"stable", "canary"}


def test_a_request_in_flight_during_a_weight_change_finishes_on_its_upstream(
    stack: Stack,
) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    stack.upstreams["stable"].delay_seconds = 1.0
    client = stack.start(route(stack, {"stable": 1.0, "canary": 0.0}))
    answers: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: answers.append(client.post(PREDICT, content=BODY)))
    worker.start()
    wait_for(lambda: stack.upstreams["stable"].in_flight == 1, "the request to reach stable")
    weights = {"weights": {"stable": 0.0, "canary": 100.0}}
    assert client.put("/admin/v1/models/clf/weights", json=weights,
                      headers=admin_headers()).status_code == 200  # fmt: skip
    after = client.post(PREDICT, content=BODY)
    worker.join(30)
    assert [(a.status_code, a.headers["X-Tfprod-Variant"]) for a in answers] == [(200, "stable")]
    assert (after.status_code, after.headers["X-Tfprod-Variant"]) == (200, "canary")


def test_a_slow_shadow_neither_delays_nor_changes_the_primary_answer(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("shadow", bias=-5.0)
    stack.upstreams["shadow"].delay_seconds = 1.0
    config = route(stack, {"stable": 1.0})
    config["routes"][0]["shadows"] = [{"name": "shadow", "url": stack.urls["shadow"]}]
    client = stack.start(config)
    direct = httpx.post(f"{stack.urls['stable']}{PREDICT}", content=BODY).content
    answer = client.post(PREDICT, content=BODY)
    # The primary answer is back before the shadow has answered the mirrored request.
    assert stack.upstreams["shadow"].answered == 0
    assert (answer.status_code, answer.content) == (200, direct)
    wait_for(lambda: stack.upstreams["shadow"].answered == 1, "the shadow to answer")
    wait_for(
        lambda: metric(
            client, "tfprod_gateway_shadow_requests_total",
            model="clf", shadow="shadow", outcome="disagree",
        ) == 1,
        "the disagreement to be recorded",
    )  # fmt: skip
    assert (
        metric(client, "tfprod_gateway_shadow_abs_difference_count", model="clf", shadow="shadow")
        == 1
    )


def test_shadows_over_the_concurrency_bound_are_dropped_and_counted(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("shadow")
    stack.upstreams["shadow"].delay_seconds = 1.0
    config = route(stack, {"stable": 1.0}, shadows=[])
    config["routes"][0]["shadows"] = [{"name": "shadow", "url": stack.urls["shadow"]}]
    config["shadow_max_in_flight"] = 1
    client = stack.start(config)
    assert [client.post(PREDICT, content=BODY).status_code for _ in range(3)] == [200] * 3
    labels = {"model": "clf", "shadow": "shadow", "outcome": "dropped"}
    assert metric(client, "tfprod_gateway_shadow_requests_total", **labels) == 2
    wait_for(
        lambda: metric(
            client, "tfprod_gateway_shadow_requests_total",
            model="clf", shadow="shadow", outcome="agree",
        ) == 1,
        "the one admitted shadow to agree",
    )  # fmt: skip


def test_capture_drops_and_counts_records_when_its_queue_is_full(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0}, capture_rate=1.0)
    config["capture_queue_size"] = 3
    client = stack.start(config)
    ids = [client.post(PREDICT, content=BODY).headers["X-Request-Id"] for _ in range(5)]
    assert metric(client, "tfprod_gateway_capture_dropped_total", model="clf") == 2
    assert metric(client, "tfprod_gateway_capture_records_total", model="clf") == 3
    drained = client.post("/admin/v1/capture/drain?limit=10", headers=admin_headers()).json()
    records = drained["records"]
    assert [r["request_id"] for r in records] == ids[:3]
    assert records[0]["request"] == {"instances": [[1.0, 2.0, 3.0, 4.0]]}
    assert records[0]["variant"] == "stable"
    assert client.post("/admin/v1/capture/drain", headers=admin_headers()).json() == {"records": []}


@pytest.mark.parametrize(("rate", "observed"), [(1.0, 4), (0.0, 0)])
def test_prediction_confidence_is_observed_for_the_configured_share(
    stack: Stack, rate: float, observed: int
) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}, confidence_rate=rate))
    for _ in range(4):
        assert client.post(PREDICT, content=BODY).status_code == 200
    labels = {"model": "clf", "variant": "stable"}
    count = metric(client, "tfprod_gateway_prediction_confidence_count", **labels)
    total = metric(client, "tfprod_gateway_prediction_confidence_sum", **labels)
    assert (count, total) == (observed, pytest.approx(observed * 0.6791787, abs=1e-6))


def test_feedback_is_joined_to_the_request_id_and_variant(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    client = stack.start(route(stack, {"stable": 0.0, "canary": 1.0}))
    request_id = client.post(PREDICT, content=BODY).headers["X-Request-Id"]
    joined = client.post(
        "/v1/feedback", json={"request_id": request_id, "event": "revenue", "value": 12.5}
    )
    assert joined.json() == {
        "request_id": request_id, "model": "clf", "variant": "canary", "event": "revenue",
    }  # fmt: skip
    client.post("/v1/feedback", json={"request_id": request_id, "event": "click"})
    labels = {"model": "clf", "variant": "canary"}
    assert metric(client, "tfprod_gateway_feedback_events_total", event="revenue", **labels) == 1
    assert metric(client, "tfprod_gateway_feedback_value_total", event="revenue", **labels) == 12.5
    assert metric(client, "tfprod_gateway_feedback_events_total", event="click", **labels) == 1


def test_feedback_for_a_request_older_than_the_join_window_is_counted_unmatched(
    stack: Stack,
) -> None:
    # Only callers' own ids, where the policy accepts them, still go through the join window.
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0}, client_request_ids=True)
    config["feedback_window"] = 2
    client = stack.start(config)
    ids = [
        client.post(PREDICT, content=BODY, headers={"X-Request-Id": f"mine-{i}"}).headers[
            "X-Request-Id"
        ]
        for i in range(3)
    ]
    statuses = [
        client.post("/v1/feedback", json={"request_id": i, "event": "click"}).status_code
        for i in ids
    ]
    assert statuses == [404, 200, 200]
    assert metric(client, "tfprod_gateway_feedback_unmatched_total") == 1


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"request_id": "nope", "event": "click"},
            404,
            "unknown request_id 'nope': not served by this gateway or older than its last"
            " 100000 requests",
        ),
        (
            {"request_id": "r", "event": "like"},
            400,
            "event: must be one of click, conversion, revenue, got 'like'",
        ),
        (
            {"request_id": "r", "event": "revenue"},
            400,
            "value: must be a finite number for revenue, got None",
        ),
        ([], 400, "feedback must be a JSON object, got list"),
    ],
)
def test_bad_feedback_is_refused_with_the_reason(
    stack: Stack, body: object, status: int, error: str
) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}, client_request_ids=True))
    answer = client.post("/v1/feedback", json=body)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_an_open_breaker_sends_traffic_to_the_fallback(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("fallback", bias=5.0)
    stack.upstreams["stable"].fail_with = 500
    config = route(stack, {"stable": 1.0}, fallback={"name": "fallback", "url": ""})
    config["routes"][0]["fallback"]["url"] = stack.urls["fallback"]
    config["breaker"] = {"failure_threshold": 2, "open_seconds": 60}
    client = stack.start(config)
    fallback_answer = httpx.post(f"{stack.urls['fallback']}{PREDICT}", content=BODY).content
    answers = [client.post(PREDICT, content=BODY) for _ in range(5)]
    assert [(a.status_code, a.content) for a in answers] == [(200, fallback_answer)] * 5
    assert {a.headers["X-Tfprod-Variant"] for a in answers} == {"fallback"}
    assert stack.upstreams["stable"].received == 2  # open after two failures: not called again
    assert (
        metric(client, "tfprod_gateway_fallback_requests_total", model="clf", variant="stable") == 5
    )
    assert metric(client, "tfprod_gateway_breaker_open", upstream="clf/stable") == 1
    state = client.get("/admin/v1/state", headers=admin_headers()).json()
    assert state["models"]["clf"]["breakers"] == {"stable": "open", "fallback": "closed"}


def test_without_a_fallback_an_open_breaker_answers_503(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstreams["stable"].fail_with = 503
    config = route(stack, {"stable": 1.0})
    config["breaker"] = {"failure_threshold": 1, "open_seconds": 60}
    client = stack.start(config)
    first, second = client.post(PREDICT, content=BODY), client.post(PREDICT, content=BODY)
    assert (first.status_code, first.json()) == (503, {"error": "injected failure"})
    assert (second.status_code, second.json()) == (
        503,
        {"error": "upstream 'stable' is unavailable (circuit open)"},
    )


def test_an_unreachable_upstream_falls_back(stack: Stack) -> None:
    stack.upstream("fallback")
    config = {
        "routes": [
            {
                "model": "clf",
                "variants": [{"name": "gone", "url": "http://127.0.0.1:9", "weight": 1}],
                "fallback": {"name": "fallback", "url": stack.urls["fallback"]},
            }
        ]
    }
    client = stack.start(config)
    answer = client.post(PREDICT, content=BODY)
    assert (answer.status_code, answer.headers["X-Tfprod-Variant"]) == (200, "fallback")


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "admin API needs an 'Authorization: Bearer <token>' header"),
        ({"Authorization": "Bearer wrong"}, 403, "admin token rejected"),
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401,
         "admin API needs an 'Authorization: Bearer <token>' header"),
    ],
)  # fmt: skip
def test_the_admin_api_needs_the_token(
    stack: Stack, headers: dict[str, str], status: int, error: str
) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}))
    for answer in (
        client.get("/admin/v1/state", headers=headers),
        client.put("/admin/v1/models/clf/weights", json={"weights": {"stable": 1}},
                   headers=headers),
        client.post("/admin/v1/capture/drain", headers=headers),
    ):  # fmt: skip
        assert (answer.status_code, answer.json()) == (status, {"error": error})
        assert ADMIN_TOKEN not in answer.text
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="tfprod-gateway"'


def test_without_a_configured_token_the_admin_api_is_disabled(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}), token=None)
    answer = client.get("/admin/v1/state", headers=admin_headers())
    assert (answer.status_code, answer.json()) == (
        403,
        {"error": "admin API disabled: configure admin_token_env or admin_token_file"},
    )


def test_admin_state_and_weight_errors(stack: Stack) -> None:
    stack.upstream("stable")
    stack.upstream("canary")
    client = stack.start(route(stack, {"stable": 0.9, "canary": 0.1}))
    headers = admin_headers()
    state = client.get("/admin/v1/state", headers=headers).json()
    assert state["models"]["clf"]["weights"] == {"stable": 90.0, "canary": 10.0}  # percent
    assert state["models"]["clf"]["generation"] == 0  # declared weights
    bad = client.put("/admin/v1/models/clf/weights", json={"weights": {"stable": 1}},
                     headers=headers)  # fmt: skip
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "weights must name exactly the variants stable, canary;"
                  " missing: canary; unknown: -"},
    )  # fmt: skip
    unknown = client.put("/admin/v1/models/x/weights", json={}, headers=headers)
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"error": "unknown model 'x'; models: clf"},
    )
    wrong_shape = client.put("/admin/v1/models/clf/weights", json={"weights": {"stable": "1"}},
                             headers=headers)  # fmt: skip
    assert wrong_shape.json() == {
        "error": 'body must be {"weights": {"<variant>": <percent>, ...}}'
        " for variants stable, canary"
    }
    path = "/admin/v1/models/clf/weights"
    not_percent = client.put(path, json={"weights": {"stable": 1, "canary": 3}}, headers=headers)
    assert (not_percent.status_code, not_percent.json()) == (
        400,
        {"error": "weights must sum to 100 (percent); got 4 (stable: 1, canary: 3)"},
    )
    negative = client.put(path, json={"weights": {"stable": 100, "canary": -5}}, headers=headers)
    assert negative.json() == {"error": "weight for 'canary' is -5; allowed: 0 to 100 (percent)"}
    extra = client.put("/admin/v1/models/clf/weights",
                       json={"weights": {"stable": 25, "canary": 75}, "normalise": True},
                       headers=headers)  # fmt: skip
    assert (extra.status_code, extra.json()) == (
        400,
        {"error": "unknown field 'normalise'; allowed: weights"},
    )
    ok = client.put("/admin/v1/models/clf/weights", json={"weights": {"stable": 25, "canary": 75}},
                    headers=headers)  # fmt: skip
    assert ok.json() == {"model": "clf", "weights": {"stable": 25.0, "canary": 75.0},
                         "generation": 1}  # fmt: skip
    assert metric(client, "tfprod_gateway_status_generation", deployment="clf") == 1
