"""A real local platform for the dashboard: two versions of the tiny classifier, a canary
ramp on a slow schedule (so it is still progressing when the test clicks) that is also the
treatment of an A/B test on error_rate, a drift monitor on the registry's reference profile,
and predict traffic from a thread. Both model servers answer 5% of requests with an injected
error, so the A/B test's error rates vary and its interval is finite (equal rates and a
significance level of 0.001: the test stays undecided while the browser test runs)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from examples.toy_models import FEATURES, export_tiny_classifier
from tfprod.policy import Policy, artifact_uri
from tfprod.runtime.local import LocalPlatform, PlatformOptions

DEPLOYMENT = "recommendation-engine"


def register_versions(root: Path) -> str:
    """A file registry holding v1 (with a reference profile) and v2; returns its URI."""
    from tfprod.runtime.registry import Registry

    uri = (root / "registry").as_uri()
    registry = Registry.open(uri)
    reference = np.random.default_rng(0).normal(size=(2_000, FEATURES))
    for seed, version in ((1, "v1"), (2, "v2")):
        registry.register(
            export_tiny_classifier(root / version, seed=seed),
            name="rec",
            version=version,
            reference_data=reference if version == "v1" else None,
        )
    return uri


def canary_policy(registry: str) -> Policy:
    return Policy.model_validate(
        {
            "name": DEPLOYMENT,
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": "v1", "artifact": artifact_uri(registry, "rec", "v1"), "role": "stable"},
                {"id": "v2", "artifact": artifact_uri(registry, "rec", "v2"), "role": "canary"},
            ],
            "traffic": {"weights": {"v1": 80, "v2": 20}},
            "canary": {
                "version": "v2",
                "steps": [[20, "1h"], [50, "1h"]],
                "success_criteria": ["error_rate < 50%"],
            },
            "ab_test": {
                "control": "v1",
                "treatment": "v2",
                "treatment_percent": 20,
                "metrics": ["error_rate"],
                "min_sample_size": 20,
                "significance_level": 0.001,
                "duration_seconds": "1h",
            },
            "drift": {
                "reference_uri": f"{registry}/models/rec/versions/v1",
                "threshold": 0.2,
                "window_seconds": "1h",
            },
            "controller": {
                "check_interval_seconds": 1,
                "evaluation_window_seconds": 5,
                "failure_threshold": 3,
                "min_samples": 5,
                "no_data_bound_seconds": 600,
            },
        }
    )


class Traffic:
    """Predict requests to the gateway from a thread until stopped; feature f0 shifted by 1."""

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        rows = np.random.default_rng(1).normal(size=(10_000, FEATURES))
        rows[:, 0] += 1.0
        n = 0
        while not self._stop.is_set():
            batch = rows[(n * 5) % 10_000 : (n * 5) % 10_000 + 5].tolist()
            n += 1
            request = urllib.request.Request(
                f"{self.gateway}/v1/models/{DEPLOYMENT}:predict",
                data=json.dumps({"instances": batch}).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
            time.sleep(0.02)


@dataclass(frozen=True, kw_only=True)
class Running:
    controller: str
    gateway: str
    token: str


@contextmanager
def running_platform(root: Path) -> Iterator[Running]:
    policy = canary_policy(register_versions(root))
    options = PlatformOptions(workdir=root / "work", gateway_port=0, fault_injection=True)
    with LocalPlatform([policy], options) as platform:
        endpoints = root / "work" / "policies" / DEPLOYMENT / "endpoints.json"
        for server in json.loads(endpoints.read_text(encoding="utf-8")).values():
            put_faults(server, {"error_share": 0.05})
        with Traffic(platform.gateway_url):
            yield Running(
                controller=platform.controller_url,
                gateway=platform.gateway_url,
                token=platform.admin_token_file.read_text(encoding="utf-8"),
            )


def put_faults(server: str, plan: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{server}/admin/v1/faults",
        data=json.dumps(plan).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def controller_get(running: Running, path: str) -> Any:
    request = urllib.request.Request(
        f"{running.controller}{path}", headers={"Authorization": f"Bearer {running.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
