"""`tfprod serve` as the local platform runs it: a subprocess with TF Serving's flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import free_port
from tests.serving.conftest import Models, config_text


def run_serve(*flags: str, stderr: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "tfprod", "serve", *flags],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_serves_the_latest_version_until_sigterm(models: Models, tmp_path: Path) -> None:
    grpc_port, rest_port = free_port(), free_port()
    with (
        (tmp_path / "stderr").open("w") as log,
        run_serve(
            "--model_name=tiny",
            f"--model_base_path={models.tiny}",
            f"--port={grpc_port}",
            f"--rest_api_port={rest_port}",
            stderr=log,
        ) as process,
    ):
        serve_until_signal(process, signal.SIGTERM, grpc_port, rest_port)


def serve_until_signal(
    process: subprocess.Popen[str], signum: int, grpc_port: int, rest_port: int
) -> None:
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready == (
            f"serving REST on http://127.0.0.1:{rest_port}, gRPC on 127.0.0.1:{grpc_port}\n"
        )
        status = httpx.get(f"http://127.0.0.1:{rest_port}/v1/models/tiny").json()
        assert [entry["version"] for entry in status["model_version_status"]] == ["2"]
    finally:
        process.send_signal(signum)
        assert process.wait(timeout=30) == 0


@pytest.mark.slow
def test_model_config_file_serves_several_models(models: Models, tmp_path: Path) -> None:
    config = tmp_path / "models.config"
    config.write_text(config_text(models))
    rest_port = free_port()
    with (
        (tmp_path / "stderr").open("w") as log,
        run_serve(
            f"--model_config_file={config}", "--port=0", f"--rest_api_port={rest_port}", stderr=log
        ) as process,
    ):
        query_both_models(process, rest_port)


def query_both_models(process: subprocess.Popen[str], rest_port: int) -> None:
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == f"serving REST on http://127.0.0.1:{rest_port}\n"
        url = f"http://127.0.0.1:{rest_port}/v1/models"
        assert httpx.get(f"{url}/examples").status_code == 200
        assert httpx.get(f"{url}/tiny/versions/1").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "tfprod serve: error: give --model_base_path (one model) or --model_config_file\n"),
        (
            ("--model_config_file=/nonexistent/models.config",),
            "tfprod serve: error: --model_config_file '/nonexistent/models.config' cannot be "
            "read: No such file or directory\n",
        ),
        (
            ("--model_base_path=/nonexistent", "--rest_api_port=-1"),
            "tfprod serve: error: --rest_api_port must be in 0..65535, got -1\n",
        ),
    ],
)
def test_bad_flags_exit_2_with_one_line(flags: tuple[str, ...], message: str) -> None:
    with run_serve(*flags) as process:
        _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (2, message)
