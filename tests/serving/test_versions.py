"""New versions on disk are picked up while serving, as TF Serving's file system polling does."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.services import free_port
from tests.serving.conftest import Models
from tfprod.runtime.serving import ModelConfig, ServerConfig, start_model_server


def wait_for_versions(url: str, expected: list[str]) -> list[str]:
    """Polls the status until it lists `expected` or 60 s pass; returns the last listing."""
    deadline = time.monotonic() + 60
    while True:
        status = httpx.get(url).json()
        versions = [entry["version"] for entry in status["model_version_status"]]
        if versions == expected or time.monotonic() > deadline:
            return versions
        time.sleep(0.1)


@pytest.mark.slow
def test_serves_a_new_version_when_it_appears_and_drops_it_when_removed(
    models: Models, tmp_path: Path
) -> None:
    base = tmp_path / "tiny"
    shutil.copytree(models.tiny / "1", base / "1")
    config = ServerConfig(
        models=(ModelConfig(name="tiny", base_path=base),),
        port=0,
        rest_api_port=free_port(),
        file_system_poll_wait_seconds=0.1,
    )
    with start_model_server(config) as server:
        url = f"{server.endpoints.rest_url}/v1/models/tiny"
        assert wait_for_versions(url, ["1"]) == ["1"]
        shutil.copytree(models.tiny / "2", base / "incoming")
        (base / "incoming").rename(base / "2")
        assert wait_for_versions(url, ["2"]) == ["2"]
        body = {"instances": [[0.0, 0.0, 0.0, 0.0]]}
        assert httpx.post(f"{url}/versions/2:predict", json=body).status_code == 200
        shutil.rmtree(base / "2")
        assert wait_for_versions(url, ["1"]) == ["1"]


@pytest.mark.slow
def test_a_broken_new_version_keeps_the_served_ones(
    models: Models, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = tmp_path / "tiny"
    shutil.copytree(models.tiny / "1", base / "1")
    config = ServerConfig(
        models=(ModelConfig(name="tiny", base_path=base),),
        port=0,
        rest_api_port=free_port(),
        file_system_poll_wait_seconds=0.1,
    )
    with start_model_server(config) as server:
        (base / "2").mkdir()
        (base / "2" / "saved_model.pb").write_bytes(b"not a SavedModel")
        deadline = time.monotonic() + 60
        while "reload failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "model 'tiny': reload failed; keeping versions [1]" in caplog.text
        url = f"{server.endpoints.rest_url}/v1/models/tiny"
        assert wait_for_versions(url, ["1"]) == ["1"]
