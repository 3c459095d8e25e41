"""`tfprod gateway`: argument errors, and a graceful shutdown that drains in-flight requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import BODY, Stack
from tests.services import free_port
from tfprod.cli import main


def test_an_unreadable_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["gateway", "--config", str(missing), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"tfprod gateway: error: --config: cannot read {missing}: No such file or directory\n"
    )


def test_an_invalid_config_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.json"
    path.write_text(json.dumps({"routes": [{"model": "clf", "variants": []}]}))
    assert main(["gateway", "--config", str(path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"tfprod gateway: error: {path}: routes[0].variants: must be a non-empty list, got []\n"
    )


def test_a_missing_admin_token_exits_2_without_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TFPROD_TEST_GW_TOKEN", raising=False)
    path = tmp_path / "gw.json"
    variant = {"name": "stable", "url": "http://127.0.0.1:1", "weight": 1}
    path.write_text(
        json.dumps(
            {
                "routes": [{"model": "clf", "variants": [variant]}],
                "admin_token_env": "TFPROD_TEST_GW_TOKEN",
            }
        )
    )
    assert main(["gateway", "--config", str(path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"tfprod gateway: error: {path}: admin_token_env: environment variable"
        " TFPROD_TEST_GW_TOKEN is not set\n"
    )


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.slow
def test_sigterm_stops_accepting_and_drains_in_flight_requests(
    stack: Stack, tmp_path: Path
) -> None:
    stack.upstream("stable")
    stack.upstreams["stable"].delay_seconds = 2.0
    config = tmp_path / "gw.json"
    variant = {"name": "stable", "url": stack.urls["stable"], "weight": 1}
    config.write_text(json.dumps({"routes": [{"model": "clf", "variants": [variant]}]}))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "gateway", "--config", str(config), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == f"tfprod gateway listening on http://127.0.0.1:{port}\n"
        results: list[httpx.Response] = []
        worker = threading.Thread(
            target=lambda: results.append(
                httpx.post(f"http://127.0.0.1:{port}/v1/models/clf:predict", content=BODY,
                           timeout=30)
            )
        )  # fmt: skip
        worker.start()
        deadline = time.monotonic() + 10
        while stack.upstreams["stable"].in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        while not _refused(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        # New connections are refused while the routed request is still being answered.
        assert _refused(port)
        assert stack.upstreams["stable"].answered == 0
        worker.join(30)
        assert [r.status_code for r in results] == [200]
        assert results[0].json()["predictions"][0][0] == pytest.approx(0.6791787)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_status_flags_need_mounted_policies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.json"
    variant = {"name": "stable", "url": "http://127.0.0.1:1", "weight": 1}
    path.write_text(json.dumps({"routes": [{"model": "clf", "variants": [variant]}]}))
    argv = ["gateway", "--config", str(path), "--status-dir", str(tmp_path), "--port", "0"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "tfprod gateway: error: --status-dir goes with --policies\n"


def test_a_poll_interval_at_or_above_the_actuation_bound_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.gateway.test_policy_routes import ENDPOINTS, mount, policy

    mount(tmp_path, policy(), {version: e.url for version, e in ENDPOINTS.items()})
    argv = ["gateway", "--policies", str(tmp_path), "--status-dir", str(tmp_path / "s"),
            "--status-poll-seconds", "5", "--port", "0"]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "tfprod gateway: error: --status-poll-seconds: must be above 0 and below the actuation"
        " bound of every policy (recommendation-engine: 5 s), got 5\n"
    )
