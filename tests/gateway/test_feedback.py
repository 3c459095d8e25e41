"""Signed request ids: feedback counted for the variant the id names, once, by any replica
holding the key; forged, replayed, expired and out-of-bounds events are refused and counted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerting.conftest import minimal_policy
from tests.gateway.conftest import BODY, Stack, metric, route
from tfprod.cli import main
from tfprod.runtime.gateway.config import Endpoint
from tfprod.runtime.gateway.feedback import DedupWindow
from tfprod.runtime.gateway.policy_routes import route_from_policy
from tfprod.runtime.gateway.request_ids import RequestIds
from tfprod.runtime.local.ports import free_port

PREDICT = "/v1/models/clf:predict"
KEY = b"k" * 32
CANARY = {"model": "clf", "variant": "canary"}


def canary_only(stack: Stack, **extra: Any) -> dict[str, Any]:
    stack.upstream("stable")
    stack.upstream("canary")
    return route(stack, {"stable": 0.0, "canary": 1.0}, **extra)


def start(
    stack: Stack, config: dict[str, Any], key: bytes | None = KEY, *, advertised: bool = False
) -> httpx.Client:
    return stack.start(config, token=None, feedback_key=key, advertised=advertised)


def feedback(client: httpx.Client, request_id: str, event: str, **value: float) -> httpx.Response:
    return client.post("/v1/feedback", json={"request_id": request_id, "event": event, **value})


def refused(client: httpx.Client, reason: str) -> float:
    return metric(client, "tfprod_gateway_feedback_refused_total", reason=reason)


def test_the_returned_request_id_names_its_variant_and_is_the_feedback_id(stack: Stack) -> None:
    client = start(stack, canary_only(stack))
    answer = client.post(PREDICT, content=BODY)
    request_id = answer.headers["X-Request-Id"]
    assert answer.headers["X-Tfprod-Feedback-Id"] == request_id
    assert request_id.startswith("clf/canary/")
    assert feedback(client, request_id, "click").json() == {
        "request_id": request_id, "model": "clf", "variant": "canary", "event": "click",
    }  # fmt: skip


def test_a_forged_id_is_refused_with_400_and_counted_not_attributed(stack: Stack) -> None:
    client = start(stack, canary_only(stack))
    request_id = client.post(PREDICT, content=BODY).headers["X-Request-Id"]
    forged = request_id.replace("clf/canary/", "clf/stable/")

    answer = feedback(client, forged, "conversion")

    assert (answer.status_code, answer.json()) == (400, {"error": (
        f"request_id {forged!r} is not signed by this gateway's feedback key (forged,"
        " altered, or issued with another key)")})  # fmt: skip
    assert refused(client, "forged") == 1
    assert metric(client, "tfprod_gateway_feedback_events_total", model="clf",
                  variant="stable", event="conversion") == 0  # fmt: skip


def test_a_replayed_event_counts_once_and_another_event_of_the_id_still_counts(
    stack: Stack,
) -> None:
    client = start(stack, canary_only(stack))
    request_id = client.post(PREDICT, content=BODY).headers["X-Request-Id"]

    statuses = [feedback(client, request_id, "click").status_code for _ in range(3)]
    replay = feedback(client, request_id, "click")
    conversion = feedback(client, request_id, "conversion")

    assert statuses == [200, 409, 409]
    assert (replay.status_code, replay.json()) == (
        409, {"error": f"request_id {request_id!r}: click was already counted"},
    )  # fmt: skip
    assert conversion.status_code == 200
    events = "tfprod_gateway_feedback_events_total"
    assert metric(client, events, event="click", **CANARY) == 1
    assert metric(client, events, event="conversion", **CANARY) == 1
    assert refused(client, "duplicate") == 3


def test_revenue_exports_its_sum_and_its_sum_of_squares(stack: Stack) -> None:
    client = start(stack, canary_only(stack))
    for value in (3.0, 4.0, 0.5):
        request_id = client.post(PREDICT, content=BODY).headers["X-Request-Id"]
        assert feedback(client, request_id, "revenue", value=value).status_code == 200
    labels = {"event": "revenue", **CANARY}
    assert metric(client, "tfprod_gateway_feedback_value_total", **labels) == 7.5
    assert metric(client, "tfprod_gateway_feedback_value_squares_total", **labels) == 25.25


def test_two_gateways_with_one_key_attribute_each_others_ids(stack: Stack) -> None:
    config = canary_only(stack)
    first, second = start(stack, config), start(stack, config)
    other_key = start(stack, config, key=None)
    issued_by_first = first.post(PREDICT, content=BODY).headers["X-Request-Id"]

    assert feedback(second, issued_by_first, "click").json()["variant"] == "canary"
    assert feedback(other_key, issued_by_first, "click").status_code == 400
    assert metric(second, "tfprod_gateway_feedback_events_total", event="click", **CANARY) == 1
    assert refused(other_key, "forged") == 1


def test_feedback_reaching_another_replica_is_relayed_to_the_issuer_and_counted_once(
    stack: Stack,
) -> None:
    config = canary_only(stack)
    issuer, other = start(stack, config, advertised=True), start(stack, config, advertised=True)
    request_id = issuer.post(PREDICT, content=BODY).headers["X-Request-Id"]

    first = feedback(other, request_id, "conversion")
    replays = [
        feedback(other, request_id, "conversion"),
        feedback(issuer, request_id, "conversion"),
        other.post(
            "/v1/feedback",
            json={"request_id": request_id, "event": "conversion"},
            headers={"X-Tfprod-Relayed": "made-up-by-the-caller"},
        ),
    ]

    assert (first.status_code, first.json()["variant"]) == (200, "canary")
    duplicate = {"error": f"request_id {request_id!r}: conversion was already counted"}
    assert [(r.status_code, r.json()) for r in replays] == [(409, duplicate)] * 3
    events = "tfprod_gateway_feedback_events_total"
    assert metric(issuer, events, event="conversion", **CANARY) == 1
    assert metric(other, events, event="conversion", **CANARY) == 0
    assert metric(issuer, "tfprod_gateway_feedback_refused_total", reason="duplicate") == 3
    assert metric(other, "tfprod_gateway_feedback_relayed_total", outcome="relayed") == 3
    assert metric(issuer, "tfprod_gateway_feedback_relayed_total", outcome="relayed") == 0


@pytest.mark.parametrize("owner", ["gone", "not a gateway"])
def test_feedback_whose_issuer_cannot_be_reached_counts_where_it_arrives(
    stack: Stack, owner: str
) -> None:
    config = canary_only(stack)
    client = start(stack, config, advertised=True)
    address = (
        stack.upstream("other") if owner == "not a gateway" else f"http://127.0.0.1:{free_port()}"
    )
    request_id = RequestIds(KEY, owner=address).issue("clf", "canary", now=time.time())

    answers = [feedback(client, request_id, "click").status_code for _ in range(2)]

    assert answers == [200, 409]
    assert metric(client, "tfprod_gateway_feedback_events_total", event="click", **CANARY) == 1
    assert metric(client, "tfprod_gateway_feedback_relayed_total", outcome="unreachable") == 2


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"request_id": "r", "event": "revenue", "value": NaN}',
         "value: must be a finite number for revenue, got nan"),
        (b'{"request_id": "r", "event": "revenue", "value": -Infinity}',
         "value: must be a finite number for revenue, got -inf"),
        (b'{"request_id": "r", "event": "revenue", "value": -1}',
         "value: must be in [0, 1000000] for revenue, got -1"),
        (b'{"request_id": "r", "event": "revenue", "value": 1e7}',
         "value: must be in [0, 1000000] for revenue, got 1e+07"),
        (b'{"request_id": "r", "event": "click", "value": 0.5}',
         "value: must be 0 or 1 for click, got 0.5"),
        (b'{"request_id": "' + b"r" * 513 + b'", "event": "click"}',
         "request_id: must be at most 512 characters, got 513"),
    ],
)  # fmt: skip
def test_out_of_bounds_values_are_refused_with_the_bounds(
    stack: Stack, body: bytes, error: str
) -> None:
    client = start(stack, canary_only(stack))
    answer = client.post("/v1/feedback", content=body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert refused(client, "invalid") == 1


def test_a_callers_own_id_is_refused_unless_the_policy_accepts_them(stack: Stack) -> None:
    client = start(stack, canary_only(stack))
    answer = client.post(PREDICT, content=BODY, headers={"X-Request-Id": "mine-1"})

    refusal = feedback(client, "mine-1", "click")

    assert answer.headers["X-Request-Id"] == "mine-1"
    assert answer.headers["X-Tfprod-Feedback-Id"].startswith("clf/canary/")
    assert (refusal.status_code, refusal.json()) == (400, {"error": (
        "request_id 'mine-1' is not a request id this gateway issued: send the"
        " X-Tfprod-Feedback-Id of the answer (callers' own ids count only where the Policy"
        " sets feedback.client_request_ids)")})  # fmt: skip
    assert refused(client, "unsigned") == 1
    assert feedback(client, answer.headers["X-Tfprod-Feedback-Id"], "click").status_code == 200


def test_where_the_policy_accepts_callers_ids_each_event_still_counts_once(stack: Stack) -> None:
    client = start(stack, canary_only(stack, client_request_ids=True))
    client.post(PREDICT, content=BODY, headers={"X-Request-Id": "mine-1"})

    statuses = [feedback(client, "mine-1", "click").status_code for _ in range(2)]

    assert statuses == [200, 409]
    assert metric(client, "tfprod_gateway_feedback_events_total", event="click", **CANARY) == 1


def test_the_policy_setting_reaches_the_route() -> None:
    endpoints = {"fraud-v1": Endpoint(name="fraud-v1", url="http://127.0.0.1:1")}
    accepting = minimal_policy(feedback={"client_request_ids": True})
    assert route_from_policy(accepting, endpoints).client_request_ids is True
    assert route_from_policy(minimal_policy(), endpoints).client_request_ids is False


def test_the_dedup_window_forgets_a_pair_only_once_its_id_can_no_longer_count() -> None:
    window = DedupWindow(2, max_age_seconds=100)
    assert [window.admit(f"id-{i}", "click", issued=i, now=10) for i in (1, 2, 3)] == [None] * 3
    assert len(window.counted) == 2  # the bound holds; id-1 was forgotten...
    replay = window.admit("id-1", "click", issued=1, now=10)
    assert replay is not None and replay.reason == "expired"  # ...so it no longer counts
    later = window.admit("id-2", "click", issued=2, now=10)
    assert later is not None and later.reason == "duplicate"


@pytest.mark.parametrize(("issued", "now"), [(0, 100.5), (1000, 600)])
def test_ids_older_than_the_window_or_from_the_future_are_expired(issued: int, now: float) -> None:
    refusal = DedupWindow(10, max_age_seconds=100).admit("id", "click", issued=issued, now=now)
    assert refusal is not None and (refusal.reason, refusal.status) == ("expired", 400)


@pytest.mark.parametrize("owner", [None, "http://[fd00::1]:8080"])
def test_a_signed_id_survives_odd_names_and_any_change_breaks_it(owner: str | None) -> None:
    ids = RequestIds(KEY, owner=owner)
    request_id = ids.issue("my/model", "v.1 %", now=1_700_000_000.7)
    signed = ids.verify(request_id)
    assert signed is not None
    assert (signed.model, signed.variant, signed.issued, signed.owner) == (
        "my/model", "v.1 %", 1_700_000_000, owner,
    )  # fmt: skip
    assert all(
        ids.verify(request_id[:i] + chr(ord(c) ^ 1) + request_id[i + 1 :]) is None
        for i, c in enumerate(request_id)
        if RequestIds.looks_signed(request_id[:i] + chr(ord(c) ^ 1) + request_id[i + 1 :])
    )
    assert RequestIds(b"x" * 32).verify(request_id) is None


def test_feedback_for_an_id_issued_two_days_ago_is_refused_as_expired(stack: Stack) -> None:
    client = start(stack, canary_only(stack))
    old = RequestIds(KEY).issue("clf", "canary", now=time.time() - 2 * 86_400)

    answer = feedback(client, old, "click")

    assert (answer.status_code, answer.json()) == (400, {"error": (
        f"request_id {old!r} has expired: ids count for 86400 s after they are issued (300 s"
        " of clock skew allowed), and only while the last 100000 counted events are"
        " remembered")})  # fmt: skip
    assert refused(client, "expired") == 1


@pytest.mark.parametrize(
    ("address", "port"), [("http://10.0.0.1", "8080"), ("10.0.0.1:8080", "8080"), ("10.0.0.1", "0")]
)
def test_a_bad_advertise_address_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str, port: str
) -> None:
    config = tmp_path / "gw.json"
    variant = {"name": "stable", "url": "http://127.0.0.1:1", "weight": 1}
    config.write_text(json.dumps({"routes": [{"model": "clf", "variants": [variant]}]}))
    argv = ["gateway", "--config", str(config), "--port", port, "--advertise-address", address]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "tfprod gateway: error: --advertise-address: must be a host name or IP address (without"
        f" port or scheme), with a --port other than 0, got {address!r} with --port {port}\n"
    )
