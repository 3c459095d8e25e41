"""Real processes for the explainer tests: a registry, `tfprod explainer`, `tfprod serve` and
`tfprod gateway`, on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.explain.models import export_dominant_model
from tests.services import free_port
from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    Policy,
    artifact_uri,
    endpoints_json,
    policy_json,
)
from tfprod.runtime.registry import Registry

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
DEPLOYMENT = "rec-engine"


class Process:
    """A child process serving HTTP at `url`; a child that does not come up fails the test."""

    def __init__(self, argv: list[str], url: str, ready_path: str, log: Path) -> None:
        self.url = url
        self.log = log
        with log.open("ab") as output:
            self.child = subprocess.Popen(argv, env=ENV, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while True:
            if self.child.poll() is not None:
                pytest.fail(f"{argv[3]} exited with {self.child.returncode}: {log.read_text()}")
            try:
                httpx.get(f"{url}{ready_path}", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"{url} did not come up: {log.read_text()}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
            try:
                self.child.wait(30)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


def tfprod(*args: str) -> list[str]:
    return [sys.executable, "-m", "tfprod", *args]


def registry_with_two_versions(root: Path) -> str:
    """v1 registered with reference data (a profile), v2 without; both the dominant model."""
    uri = (root / "registry").as_uri()
    registry = Registry.open(uri)
    model = export_dominant_model(root / "model")
    reference = np.random.default_rng(3).normal(size=(2000, 4))
    registry.register(model, name="rec", version="v1", reference_data=reference)
    registry.register(model, name="rec", version="v2")
    return uri


def debugged_policy(registry: str, explainers: list[str]) -> Policy:
    return Policy.model_validate(
        {
            "name": DEPLOYMENT,
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": "v1", "artifact": artifact_uri(registry, "rec", "v1"), "role": "stable"},
                {"id": "v2", "artifact": artifact_uri(registry, "rec", "v2"), "role": "canary"},
            ],
            "traffic": {"weights": {"v1": 100, "v2": 0}},
            "debugger": {"capture_rate": 1.0, "explainers": explainers},
        }
    )


def mount(directory: Path, policy: Policy, endpoints: dict[str, str]) -> Path:
    """Lays the policy and endpoints out as a cluster mounts their ConfigMaps."""
    folder = directory / policy.name
    folder.mkdir(parents=True)
    (folder / CONFIGMAP_KEY).write_text(policy_json(policy), encoding="utf-8")
    (folder / ENDPOINTS_KEY).write_text(endpoints_json(endpoints), encoding="utf-8")
    return directory


def explainer(policies: Path, work: Path, *flags: str) -> Process:
    port = free_port()
    return Process(
        tfprod("explainer", "--policies", str(policies), "--models-dir", str(work / "models"),
               "--host", "127.0.0.1", "--port", str(port), *flags),
        f"http://127.0.0.1:{port}", "/metrics", work / "explainer.log",
    )  # fmt: skip


def model_server(registry: str, work: Path) -> Process:
    base = Registry.open(registry).pull("rec", "v1", work / "served").parent
    port = free_port()
    return Process(
        tfprod("serve", "--model_name", "rec", "--model_base_path", str(base),
               "--host", "127.0.0.1", "--rest_api_port", str(port), "--port", "0"),
        f"http://127.0.0.1:{port}", "/v1/models/rec", work / "serve.log",
    )  # fmt: skip


def gateway(work: Path, name: str, *flags: str) -> Process:
    port = free_port()
    return Process(
        tfprod("gateway", *flags, "--host", "127.0.0.1", "--port", str(port)),
        f"http://127.0.0.1:{port}", "/metrics", work / f"{name}.log",
    )  # fmt: skip


def config_file(path: Path, server_url: str) -> Path:
    """A gateway config routing the deployment to `server_url`, with no explainer."""
    route = {
        "model": DEPLOYMENT,
        "variants": [{"name": "v1", "url": server_url, "model_name": "rec", "weight": 1}],
    }
    path.write_text(json.dumps({"routes": [route]}), encoding="utf-8")
    return path
