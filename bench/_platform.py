"""Shared by the controller benches: tiny models in a registry, a canary policy, the local
platform's status file, fault injection, an open-loop load generator and a metrics recorder.

Only loopback: everything binds 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tfprod.policy import DeploymentStatus, Policy, artifact_uri, read_status
from tfprod.runtime.controller.observation import VersionCounters
from tfprod.runtime.local import LocalPlatform
from tfprod.runtime.observe.counters import version_counters
from tfprod.runtime.observe.exposition import parse_exposition
from tfprod.runtime.registry import Registry

DEPLOYMENT = "recommendation-engine"
STABLE, CANARY = "v1", "v2"
BODY = json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]}).encode()


def tiny_registry(root: Path) -> str:
    """A file:// registry under `root` holding two tiny classifiers, rec v1 and v2."""
    from examples.toy_models import export_tiny_classifier  # TensorFlow: only when needed

    uri = (root / "registry").as_uri()
    store = Registry.open(uri)
    for seed, version in ((1, STABLE), (2, CANARY)):
        store.register(
            export_tiny_classifier(root / version, seed=seed), name="rec", version=version
        )
    return uri


def canary_policy(
    registry: str,
    *,
    percent: float,
    controller: dict[str, Any],
    triggers: dict[str, str],
    criteria: dict[str, str] | None = None,
    hold: str = "1h",
) -> Policy:
    """v1 stable, v2 a canary held at `percent` with `criteria`, v1 the fallback of
    `triggers`."""
    return Policy.model_validate(
        {
            "name": DEPLOYMENT,
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": STABLE, "artifact": artifact_uri(registry, "rec", STABLE), "role": "stable"},
                {"id": CANARY, "artifact": artifact_uri(registry, "rec", CANARY), "role": "canary"},
            ],
            "traffic": {"weights": {STABLE: 100 - percent, CANARY: percent}},
            "canary": {
                "version": CANARY,
                "steps": [[percent, hold]],
                "success_criteria": criteria or {},
            },
            "controller": controller,
            "safety": {"fallback_version": STABLE, "triggers": triggers},
        }
    )


def status(platform: LocalPlatform) -> DeploymentStatus | None:
    return read_status(platform.status_dir / f"{DEPLOYMENT}-status.json")


def wait_for(
    platform: LocalPlatform, done: Callable[[DeploymentStatus], bool], timeout: float
) -> DeploymentStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(platform)
        if current is not None and done(current):
            return current
        time.sleep(0.05)
    raise TimeoutError(f"not reached in {timeout} s; status: {status(platform)}")


def rolled_back(current: DeploymentStatus) -> bool:
    rollback = current.rollout.rollback
    return current.rollout.phase == "rolled_back" and rollback is not None and rollback.committed


def canary_server(platform: LocalPlatform) -> str:
    endpoints = platform.status_dir.parent / "policies" / DEPLOYMENT / "endpoints.json"
    url: str = json.loads(endpoints.read_text(encoding="utf-8"))[CANARY]
    return url


def put_faults(server: str, plan: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{server}/admin/v1/faults",
        data=json.dumps(plan).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"PUT {server}/admin/v1/faults answered {response.status}")


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One request of the load generator: when sent and done (wall clock), how it went."""

    sent: float
    done: float
    ok: bool
    variant: str
    """The gateway's X-Tfprod-Variant header; "" without one."""


class Load:
    """Predict requests at `rps`, open loop (sent on schedule, not after the last answer),
    from a thread of its own, until stopped."""

    def __init__(self, gateway: str, *, rps: float) -> None:
        self.url = f"{gateway}/v1/models/{DEPLOYMENT}:predict"
        self.rps = rps
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=5)
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            tasks: set[asyncio.Task[None]] = set()
            start = time.monotonic()
            sent = 0
            while not self._stop.is_set():
                sent += 1
                await asyncio.sleep(max(0.0, start + sent / self.rps - time.monotonic()))
                task = asyncio.create_task(self._one(session, sent))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, session: aiohttp.ClientSession, n: int) -> None:
        sent = time.time()
        headers = {"Content-Type": "application/json", "X-User-Id": f"user-{n}"}
        try:
            async with session.post(self.url, data=BODY, headers=headers) as response:
                await response.read()
                ok, variant = response.status < 500, response.headers.get("X-Tfprod-Variant", "")
        except (aiohttp.ClientError, TimeoutError):
            ok, variant = False, ""
        self.answers.append(Answer(sent=sent, done=time.time(), ok=ok, variant=variant))


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """The gateway's cumulative counters of each version at one moment (wall clock)."""

    at: float
    counters: dict[str, VersionCounters]
    """Versions without a request yet are missing."""


def scrape(gateway: str) -> Snapshot:
    """Every version's counters from the gateway's own /metrics, now."""
    at = time.time()
    with urllib.request.urlopen(f"{gateway}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = version_counters(
        parse_exposition(text), deployment=DEPLOYMENT, versions={STABLE, CANARY}
    )
    return Snapshot(at=at, counters=found)


def machine_load() -> str:
    """The 1, 5 and 15 minute load averages and the number of CPUs."""
    import os

    one, five, fifteen = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    return f"load average {one} {five} {fifteen} on {os.cpu_count()} CPUs"
