"""The local platform's supervision and `tfprod serve`'s fault injection, measured in one run.

1. Restarts: under `LocalPlatform` (a stable and a canary version of a tiny model, behind the
   gateway), SIGKILL the canary's model server R times and time, per kill: until the
   supervisor starts it again (the backoff, 1 s with `reset_after_s=0` so every kill is a
   "first" one), and until the restarted server answers its status URL (Python, TensorFlow
   and the model loading). Every request sent meanwhile through the gateway is counted,
   failures included (the policy has a safety net, so there should be none).
2. Overhead of fault injection turned on with an empty plan, against the same server without
   it: sequential predict latency (p50, p99) over N requests on one keep-alive connection,
   the two servers (in this process, on threads of their own) measured alternately in rounds.

    python bench/local_platform.py [--kills 5] [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from examples.register_models import register_versions  # noqa: E402 - after the path is set
from tfprod.policy import Policy, artifact_uri  # noqa: E402
from tfprod.runtime.local import LocalPlatform, PlatformOptions, RestartPolicy  # noqa: E402
from tfprod.runtime.serving import (  # noqa: E402
    FaultPlan,
    ModelConfig,
    ServerConfig,
    start_model_server,
)

BODY = json.dumps({"instances": [[0.5, -1.0, 2.0, 0.25]]}).encode()


def policy(registry: str) -> Policy:
    return Policy.model_validate(
        {
            "name": "rec",
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": "v1", "artifact": artifact_uri(registry, "rec", "v1"), "role": "stable"},
                {"id": "v2", "artifact": artifact_uri(registry, "rec", "v2"), "role": "canary"},
            ],
            "traffic": {"weights": {"v1": 50, "v2": 50}},
            "safety": {
                "fallback_version": "v1",
                "triggers": {"error_rate > 5%": "immediate_rollback"},
            },
        }
    )


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Traffic(threading.Thread):
    """Steady predicts through the gateway; counts answers by status (0: no answer)."""

    def __init__(self, gateway: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{gateway}/v1/models/rec:predict"
        self.statuses: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            request = urllib.request.Request(self.url, data=BODY)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            self.statuses[status] = self.statuses.get(status, 0) + 1
            time.sleep(0.01)


def restarts(root: Path, kills: int) -> None:
    registry = (root / "registry").as_uri()
    register_versions(registry, [("rec", "v1"), ("rec", "v2")], root / "training")
    options = PlatformOptions(
        workdir=root / "up", gateway_port=0, restart=RestartPolicy(reset_after_s=0)
    )
    with LocalPlatform([policy(registry)], options) as platform:
        endpoints = json.loads((root / "up" / "policies" / "rec" / "endpoints.json").read_text())
        status_url = f"{endpoints['v2']}/v1/models/rec"
        traffic = Traffic(platform.gateway_url)
        traffic.start()
        to_restart, to_ready = [], []
        for _ in range(kills):
            (canary,) = [s for s in platform.states() if s.name == "rec/v2"]
            killed_at = time.perf_counter()
            os.kill(canary.pid, signal.SIGKILL)
            while [s.pid for s in platform.states() if s.name == "rec/v2"] == [canary.pid]:
                time.sleep(0.01)
            to_restart.append(time.perf_counter() - killed_at)
            while not answers(status_url):
                time.sleep(0.02)
            to_ready.append(time.perf_counter() - killed_at)
        traffic.done.set()
        traffic.join()
    print(f"restarts ({kills} kills of the canary's model server):")
    for label, values in (("kill -> restarted", to_restart), ("kill -> ready", to_ready)):
        print(f"  {label:<18} median {statistics.median(values):5.2f} s   max {max(values):5.2f} s")
    total = sum(traffic.statuses.values())
    failed = total - traffic.statuses.get(200, 0)
    print(f"  through the gateway meanwhile: {total} requests, {failed} failed {traffic.statuses}")


def overhead(root: Path, requests: int, rounds: int = 8) -> None:
    import httpx

    from examples.toy_models import export_tiny_classifier

    export_tiny_classifier(root / "tiny" / "1")
    model = (ModelConfig(name="tiny", base_path=root / "tiny"),)
    servers = {
        "off": start_model_server(ServerConfig(models=model, port=0, rest_api_port=_port())),
        "on, empty plan": start_model_server(
            ServerConfig(models=model, port=0, rest_api_port=_port(), faults=FaultPlan())
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in servers}
    try:
        for round_ in range(rounds):  # alternate which server goes first
            order = list(servers.items())
            for name, server in order if round_ % 2 else reversed(order):
                with httpx.Client(base_url=server.endpoints.rest_url) as client:
                    for _ in range(requests // rounds):
                        started = time.perf_counter()
                        client.post("/v1/models/tiny:predict", content=BODY).raise_for_status()
                        samples[name].append(time.perf_counter() - started)
    finally:
        for server in servers.values():
            server.stop()
    print(f"fault injection overhead ({requests} sequential predicts each, {rounds} rounds):")
    p50s = {}
    for name, values in samples.items():
        values.sort()
        p50s[name] = statistics.median(values)
        p99 = values[int(len(values) * 0.99)]
        print(f"  {name:<15} p50 {p50s[name] * 1000:6.3f} ms   p99 {p99 * 1000:6.3f} ms")
    print(f"  ratio on/off p50: {p50s['on, empty plan'] / p50s['off']:.3f}")


def _port() -> int:
    from tfprod.runtime.local import free_port

    return free_port()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=5, help="0 skips the restart part")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        if args.kills:
            restarts(root, args.kills)
        overhead(root, args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
