"""Capture privacy through the real gateway: named fields dropped or hashed before a record is
queued, and records never handed out past their retention."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.gateway.conftest import Stack, admin_headers, metric, route
from tfprod.runtime.gateway.config import ConfigError, GatewayConfig

PREDICT = "/v1/models/clf:predict"
FEEDBACK_KEY = b"feedback-key-for-capture-tests"
PERSONAL = {
    "instances": [[1.0, 2.0, 3.0, 4.0]],
    "context": {"email": "ada@example.com", "user_id": "u-17", "page": "home"},
}


def expected_hash(value: object) -> str:
    """The documented hash: HMAC-SHA256 of the canonical JSON, keyed by a key derived from the
    feedback-signing key (computed here independently of the gateway's code)."""
    key = hmac.new(FEEDBACK_KEY, b"tfprod capture redaction", hashlib.sha256).digest()
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return "hmac-sha256:" + hmac.new(key, text, hashlib.sha256).hexdigest()


def drain(stack: Stack) -> list[dict[str, object]]:
    client = stack.clients[-1]
    answer = client.post("/admin/v1/capture/drain?limit=10", headers=admin_headers())
    assert answer.status_code == 200
    records: list[dict[str, object]] = answer.json()["records"]
    return records


def test_named_fields_are_dropped_or_hashed_before_the_record_is_queued(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(
        stack, {"stable": 1.0}, capture_rate=1.0,
        capture_redact={"email": "drop", "user_id": "hash"},
    )  # fmt: skip
    client = stack.start(config, feedback_key=FEEDBACK_KEY)
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    (record,) = drain(stack)
    assert record["request"] == {
        "instances": [[1.0, 2.0, 3.0, 4.0]],
        "context": {"user_id": expected_hash("u-17"), "page": "home"},
    }
    assert "ada@example.com" not in json.dumps(record)
    assert "u-17" not in json.dumps(record)


def test_two_replicas_sharing_the_feedback_key_hash_a_value_alike(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0}, capture_rate=1.0, capture_redact={"user_id": "hash"})
    hashes = []
    for _ in range(2):
        client = stack.start(config, feedback_key=FEEDBACK_KEY)
        assert client.post(PREDICT, json=PERSONAL).status_code == 200
        (record,) = drain(stack)
        request = record["request"]
        assert isinstance(request, dict)
        hashes.append(request["context"]["user_id"])
    assert hashes == [expected_hash("u-17")] * 2


def test_without_redaction_rules_the_body_is_captured_as_sent(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}, capture_rate=1.0))
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    (record,) = drain(stack)
    assert record["request"] == PERSONAL


def test_a_record_carries_its_expiry_one_day_after_capture_by_default(stack: Stack) -> None:
    stack.upstream("stable")
    client = stack.start(route(stack, {"stable": 1.0}, capture_rate=1.0))
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    (record,) = drain(stack)
    assert record["expires_unix_time"] == record["unix_time"] + 86_400  # type: ignore[operator]


def test_an_expired_record_is_never_handed_out_and_is_counted(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0}, capture_rate=1.0, capture_retention_seconds=0.05)
    client = stack.start(config)
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    assert metric(client, "tfprod_gateway_capture_records_total", model="clf") == 1
    time.sleep(0.1)  # past the retention: ordering, not a timing assertion
    assert drain(stack) == []
    assert metric(client, "tfprod_gateway_capture_expired_total", model="clf") == 1


def test_a_full_queue_makes_room_by_discarding_expired_records(stack: Stack) -> None:
    stack.upstream("stable")
    config = route(stack, {"stable": 1.0}, capture_rate=1.0, capture_retention_seconds=0.05)
    config["capture_queue_size"] = 1
    client = stack.start(config)
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    time.sleep(0.1)
    assert client.post(PREDICT, json=PERSONAL).status_code == 200
    assert metric(client, "tfprod_gateway_capture_dropped_total", model="clf") == 0
    assert metric(client, "tfprod_gateway_capture_records_total", model="clf") == 2
    assert metric(client, "tfprod_gateway_capture_expired_total", model="clf") == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "capture_redact",
            {"email": "mask"},
            "routes[0].capture_redact.email: must be one of drop, hash, got 'mask'",
        ),
        (
            "capture_redact",
            ["email"],
            "routes[0].capture_redact: must be an object of field name to drop or hash,"
            " got ['email']",
        ),
        (
            "capture_retention_seconds",
            0,
            "routes[0].capture_retention_seconds: must be a number in [0.001, inf], got 0",
        ),
    ],
)
def test_a_bad_capture_setting_names_the_field_and_the_value(
    field: str, value: object, message: str
) -> None:
    config = {
        "routes": [
            {
                "model": "clf",
                "variants": [{"name": "a", "url": "http://127.0.0.1:9", "weight": 1}],
                field: value,
            }
        ]
    }
    with pytest.raises(ConfigError) as error:
        GatewayConfig.from_dict(config)
    assert str(error.value) == message
