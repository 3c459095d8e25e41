"""`make demo`: the recommendation example, end to end on this machine, in about a minute.

1. Trains the example's four model versions (tiny real TensorFlow models, seconds each) and
   registers them in a local registry.
2. Synthesizes the examples' local flavour (`examples.local`), which writes each
   deployment's Policy next to its stack, as for any cloud.
3. Brings the local platform up from that Policy (`tfprod up`'s code, `LocalPlatform`): one
   supervised model server per version and the gateway.
4. Drives synthetic traffic and walks the canary through its declared ramp to promotion,
   with time compressed (one declared minute per second), showing the share each version
   actually receives.
5. Kills the canary's model server under load, for good (as scaling it to zero would; a
   crashed server is restarted instead, see `tests/local/test_up.py`), and shows the
   gateway's circuit breaker sending the canary's share to the safety net's fallback version.
6. Prints a summary and stops everything it started.

The runtime controller that will own ramps and automatic rollbacks does not exist yet: until
it does, step 4 sets the ramp's weights through the gateway's admin API, as the controller
will, and step 5 shows the gateway-level safety net only.

    python examples/demo.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples import recommendation_system
from examples.clouds import LOCAL
from examples.local import synthesize_local
from examples.register_models import register_versions
from tfprod.policy import Policy
from tfprod.runtime.local import LocalPlatform, PlatformOptions, stack_policies

STACK = f"{recommendation_system.TEAM.stack}-{LOCAL}"
SECONDS_PER_DECLARED_MINUTE = 1.0
REQUESTS_PER_SECOND = 150
USERS = 500


def synthesize(outdir: Path, registry_uri: str) -> Policy:
    """The examples' local flavour (`examples.local`); the recommendation engine's policy."""
    synthesize_local(outdir, registry_uri)
    (policy,) = stack_policies(outdir, STACK)
    return policy


@dataclass
class Traffic:
    """Synthetic callers: a steady request rate through the gateway, answers tallied."""

    host: str
    port: int
    model: str
    variants: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards the tallies, which the driver thread counts into and `window` swaps out."""

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        body = json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]})
        interval = 1 / REQUESTS_PER_SECOND
        next_at = time.perf_counter()
        user = 0
        while not self._stop.is_set():
            user = (user + 1) % USERS
            started = time.perf_counter()
            try:
                connection.request(
                    "POST",
                    f"/v1/models/{self.model}:predict",
                    body=body,
                    headers={"Content-Type": "application/json", "X-User-Id": f"user-{user}"},
                )
                response = connection.getresponse()
                response.read()
                self._count(response.status, response.getheader("X-Tfprod-Variant", "none"))
            except (OSError, http.client.HTTPException):
                self._count(0, "none")
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        connection.close()

    def _count(self, status: int, variant: str) -> None:
        """Tallies one answer; status 0 is a request that got no HTTP answer at all."""
        with self._lock:
            self.statuses[status] += 1
            self.failed += status != 200
            if status:
                self.variants[variant] += 1

    def window(self) -> tuple[Counter[str], Counter[int]]:
        """The tallies since the last call, resetting them."""
        with self._lock:
            variants, statuses = self.variants, self.statuses
            self.variants, self.statuses = Counter(), Counter()
        return variants, statuses

    def stop(self) -> None:
        self._stop.set()


def set_weights(platform: LocalPlatform, deployment: str, percent: dict[str, float]) -> None:
    """Sets the gateway's weights for `deployment` through its admin API, as the controller
    will: one atomic change, in-flight requests unaffected."""
    token = platform.admin_token_file.read_text(encoding="utf-8")
    host, port = platform.gateway_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(
        "PUT",
        f"/admin/v1/models/{deployment}/weights",
        body=json.dumps({"weights": percent}),  # percent, as the Policy
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"setting weights failed: {response.status} {answer.decode()}")


def ramp_weights(policy: Policy, canary_percent: float) -> dict[str, float]:
    """Percent per live version with the canary at `canary_percent`: challengers keep their
    declared share (as much of it as is left), fallback versions stay at 0, the stable version
    takes the rest."""
    canary = policy.with_role("canary")[0].id
    declared = {v.id: policy.traffic.weights.get(v.id, 0.0) for v in policy.with_role("challenger")}
    scale = min(1.0, (100 - canary_percent) / (sum(declared.values()) or 1))
    weights = {name: share * scale for name, share in declared.items()}
    weights[canary] = canary_percent
    weights[policy.stable.id] = 100 - sum(weights.values())
    weights.update({v.id: 0.0 for v in policy.with_role("fallback")})
    return weights


def shares(variants: Counter[str]) -> str:
    total = sum(variants.values()) or 1
    return "  ".join(f"{name} {count / total:6.1%}" for name, count in sorted(variants.items()))


def errors(statuses: Counter[int]) -> int:
    return sum(count for status, count in statuses.items() if status != 200)


def walk_the_ramp(policy: Policy, platform: LocalPlatform, traffic: Traffic) -> None:
    """Each declared step in turn, then promotion, one declared minute per second."""
    assert policy.canary is not None
    clock = 0.0
    steps = [(step.percent, step.hold_seconds) for step in policy.canary.steps]
    for percent, hold_seconds in [*steps, (100.0, 60.0)]:
        set_weights(platform, policy.name, ramp_weights(policy, percent))
        traffic.window()
        time.sleep(hold_seconds / 60 * SECONDS_PER_DECLARED_MINUTE)
        variants, statuses = traffic.window()
        minutes, seconds = divmod(int(clock), 60)
        label = "promoted" if percent == 100 else f"canary {percent:5.1f}%"
        print(
            f"  T+{minutes:02d}:{seconds:02d}  {label:<15} observed: {shares(variants)}"
            f"  (n={sum(variants.values())}, errors={errors(statuses)})"
        )
        clock += hold_seconds


def inject_fault(policy: Policy, platform: LocalPlatform, traffic: Traffic) -> None:
    """Kills the canary's model server under load, for good (no restart, as if its
    Deployment were scaled to zero), and watches the gateway's safety net."""
    assert policy.canary is not None
    platform.stop(f"{policy.name}/{policy.canary.version}")
    for second in range(1, 4):
        time.sleep(1)
        variants, statuses = traffic.window()
        print(
            f"  +{second}s  observed: {shares(variants)}"
            f"  (n={sum(variants.values())}, errors={errors(statuses)})"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, default=Path(".tfprod/demo"))
    workdir: Path = parser.parse_args(argv).workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    registry_uri = (workdir / "registry").as_uri()
    started = time.perf_counter()

    print("1. training the recommendation example's versions")
    versions = ["rec-v2.0.0", "rec-v2.1.0", "rec-v2.1.1", "rec-v2.2.0"]
    register_versions(registry_uri, [("rec", v) for v in versions], workdir / "training")

    print("2. synthesizing the example for the local platform")
    policy = synthesize(workdir / "cdktf.out", registry_uri)
    if policy.canary is None:
        raise SystemExit(f"{policy.name} declares no canary: nothing to ramp")
    roles = ", ".join(f"{v.id} {v.role}" for v in policy.versions)
    print(f"  {STACK}: {policy.name} ({roles})")

    print("3. starting a model server per version and the gateway")
    with LocalPlatform(
        [policy], PlatformOptions(workdir=workdir / "up", gateway_port=0)
    ) as platform:
        print(f"  gateway: {platform.gateway_url}")
        host, port = platform.gateway_url.removeprefix("http://").split(":")
        traffic = Traffic(host=host, port=int(port), model=policy.name)
        driver = threading.Thread(target=traffic.run, daemon=True)
        driver.start()
        try:
            print(f"4. ramping canary {policy.canary.version} at {REQUESTS_PER_SECOND} requests/s")
            walk_the_ramp(policy, platform, traffic)
            print(f"5. fault: canary {policy.canary.version}'s model server is killed")
            inject_fault(policy, platform, traffic)
        finally:
            traffic.stop()
            driver.join()

    latencies = sorted(traffic.latencies_ms)
    print("6. summary")
    print(
        f"  {len(latencies)} requests, {traffic.failed} failed;"
        f" latency p50 {statistics.median(latencies):.2f} ms,"
        f" p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms (through the gateway)"
    )
    print(f"  every process stopped; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
