"""`tfprod gateway --admin-port`: the admin API and /metrics on a port of their own, the public
port serving only TF Serving's API and feedback (a real gateway process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import ADMIN_TOKEN, BODY, Stack
from tests.services import free_port
from tfprod.cli import main

PREDICT = "/v1/models/clf:predict"


def test_admin_api_and_metrics_answer_only_on_the_admin_port(stack: Stack, tmp_path: Path) -> None:
    stack.upstream("stable")
    variant = {"name": "stable", "url": stack.urls["stable"], "weight": 1}
    config = tmp_path / "gw.json"
    config.write_text(
        json.dumps(
            {"routes": [{"model": "clf", "variants": [variant]}], "admin_token_env": "GW_TOKEN"}
        )
    )
    port, admin_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "gateway", "--config", str(config),
         "--port", str(port), "--admin-port", str(admin_port)],
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "GW_TOKEN": ADMIN_TOKEN},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == f"tfprod gateway listening on http://127.0.0.1:{port}\n"
        assert process.stderr.readline() == (
            f"tfprod gateway admin API and /metrics on http://127.0.0.1:{admin_port}\n"
        )
        public = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        admin = httpx.Client(base_url=f"http://127.0.0.1:{admin_port}", timeout=30)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert public.post(PREDICT, content=BODY).status_code == 200
        assert public.get("/v1/models/clf").status_code == 200
        assert public.get("/metrics").json() == {"error": "no such endpoint: GET /metrics"}
        assert public.get("/admin/v1/state", headers=headers).status_code == 404
        assert admin.post(PREDICT, content=BODY).status_code == 404
        assert "tfprod_gateway_requests_total" in admin.get("/metrics").text
        assert admin.get("/admin/v1/state", headers=headers).status_code == 200
        public.close()
        admin.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("admin_port", ["8080", "0", "70000"])
def test_a_bad_admin_port_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], admin_port: str
) -> None:
    config = tmp_path / "gw.json"
    variant = {"name": "stable", "url": "http://127.0.0.1:1", "weight": 1}
    config.write_text(json.dumps({"routes": [{"model": "clf", "variants": [variant]}]}))
    argv = ["gateway", "--config", str(config), "--port", "8080", "--admin-port", admin_port]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "tfprod gateway: error: --admin-port: must be in [1, 65535] and differ from --port,"
        f" got {admin_port}\n"
    )
