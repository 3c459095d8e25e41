"""Real processes for the observe tests: `tfprod gateway` replicas and a Prometheus server,
each on a loopback port, running until the block ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.alerting.conftest import tool
from tests.services import free_port, skip_or_fail
from tfprod.policy import CONFIGMAP_KEY, ENDPOINTS_KEY, Policy, policy_json


def mount_policies(root: Path, deployments: Sequence[tuple[Policy, Mapping[str, str]]]) -> Path:
    """`root/<deployment>/policy.json` and `endpoints.json` (version id -> URL), the files a
    cluster mounts into the gateway; returns `root` for `tfprod gateway --policies`."""
    for policy, endpoints in deployments:
        directory = root / policy.name
        directory.mkdir(parents=True)
        (directory / CONFIGMAP_KEY).write_text(policy_json(policy))
        (directory / ENDPOINTS_KEY).write_text(json.dumps(dict(endpoints)))
    return root


@contextmanager
def gateway_process(policies: Path, port: int, *extra: str) -> Iterator[str]:
    """`tfprod gateway --policies policies --port port`, once it logged that it listens;
    yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "gateway", "--policies", str(policies),
         "--port", str(port), *extra],
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line == f"tfprod gateway listening on http://127.0.0.1:{port}\n", line
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)
        if process.stderr is not None:
            process.stderr.close()


@contextmanager
def prometheus_server(
    storage: Path,
    jobs: Mapping[str, Sequence[str]],
    *,
    labels: Mapping[str, str],
    scrape_interval: str = "1s",
) -> Iterator[str]:
    """Debian's `prometheus` on a free loopback port, scraping each job's `host:port`
    targets every `scrape_interval` with `labels` added to every series; yields its base URL
    once ready."""
    binary = tool("prometheus")
    port = free_port()
    config = storage / "prometheus.yml"
    storage.mkdir(parents=True, exist_ok=True)
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {"scrape_interval": scrape_interval, "scrape_timeout": "1s"},
                "scrape_configs": [
                    {"job_name": job, "static_configs": [{"targets": list(targets),
                                                          "labels": dict(labels)}]}
                    for job, targets in jobs.items()
                ],
            }
        )
    )  # fmt: skip
    log = (storage / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={storage / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            skip_or_fail(f"prometheus exited with code {process.returncode} while starting")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    skip_or_fail("prometheus did not become ready within 60 s")
