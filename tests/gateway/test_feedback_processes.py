"""Signed feedback across real processes: two `tfprod gateway` replicas sharing a key file in
front of the real model server attribute each other's request ids; forged and replayed
events are not counted; a key file too short to be a key stops the gateway before it binds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.gateway.conftest import BODY, metric
from tests.gateway.model_server import export_versions, model_server
from tests.services import free_port
from tfprod.cli import main

pytestmark = pytest.mark.slow
PREDICT = "/v1/models/clf:predict"
CANARY = {"model": "clf", "variant": "canary", "event": "conversion"}


@contextmanager
def gateway_process(config: Path, *extra: str) -> Iterator[tuple[httpx.Client, IO[str]]]:
    """`tfprod gateway --config config` on a free port, once it logged that it listens;
    yields a client and the rest of its log."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "gateway", "--config", str(config), "--port",
         str(port), *extra],
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == f"tfprod gateway listening on http://127.0.0.1:{port}\n"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client, process.stderr
    finally:
        process.terminate()
        process.wait(30)
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("feedback-processes")
    with model_server(export_versions(root, {1: 0, 2: 1})) as (_process, server):
        endpoint = {"url": server, "model_name": "clf"}
        path = root / "gateway.json"
        path.write_text(json.dumps({"routes": [{"model": "clf", "variants": [
            {"name": "stable", "version": 1, "weight": 0, **endpoint},
            {"name": "canary", "version": 2, "weight": 1, **endpoint}]}]}))  # fmt: skip
        yield path


def test_two_gateways_with_one_key_file_attribute_each_others_ids_once(
    config: Path, tmp_path: Path
) -> None:
    key = tmp_path / "feedback-key"
    key.write_text(os.urandom(32).hex() + "\n")
    flag = ("--feedback-key-file", str(key))
    with (
        gateway_process(config, *flag) as (first, _),
        gateway_process(config, *flag) as (
            second,
            _,
        ),
    ):
        ids = [first.post(PREDICT, content=BODY).headers["X-Request-Id"] for _ in range(3)]
        forged = ids[0].replace("clf/canary/", "clf/stable/")

        on_second = [
            second.post("/v1/feedback", json={"request_id": i, "event": "conversion"}) for i in ids
        ]
        replayed = first.post("/v1/feedback", json={"request_id": ids[0], "event": "conversion"})
        replayed_again = second.post(
            "/v1/feedback", json={"request_id": ids[1], "event": "conversion"}
        )
        refused_forgery = second.post(
            "/v1/feedback", json={"request_id": forged, "event": "conversion"}
        )

        assert [a.json()["variant"] for a in on_second] == ["canary"] * 3
        events = "tfprod_gateway_feedback_events_total"
        assert metric(second, events, **CANARY) == 3
        assert metric(second, events, **{**CANARY, "variant": "stable"}) == 0
        assert (replayed_again.status_code, refused_forgery.status_code) == (409, 400)
        assert metric(second, "tfprod_gateway_feedback_refused_total", reason="duplicate") == 1
        assert metric(second, "tfprod_gateway_feedback_refused_total", reason="forged") == 1
        # The dedup window is per replica: the first one never saw ids[0]'s conversion.
        assert replayed.status_code == 200


def test_without_a_key_file_a_gateway_says_feedback_matches_only_its_own_ids(
    config: Path,
) -> None:
    with gateway_process(config) as (client, log):
        notice = log.readline()
        request_id = client.post(PREDICT, content=BODY).headers["X-Request-Id"]
        counted = client.post("/v1/feedback", json={"request_id": request_id, "event": "click"})
    assert notice == (
        "no --feedback-key-file: request ids are signed with a random key of this process,"
        " so feedback matches only the ids this replica issued\n"
    )
    assert counted.json()["variant"] == "canary"


def test_a_key_file_too_short_exits_2_naming_it(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    key.write_text("short\n")
    assert main(["gateway", "--config", str(config), "--port", "0",
                 "--feedback-key-file", str(key)]) == 2  # fmt: skip
    assert capsys.readouterr().err == (
        f"tfprod gateway: error: --feedback-key-file: {key} holds 5 bytes; a key needs at least"
        " 32 (for example `head -c 32 /dev/urandom | base64`)\n"
    )
