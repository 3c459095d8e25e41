"""`make demo`: the runtime controller ramping, deciding and rolling back, on this machine.

1. Trains three versions of the recommendation model (tiny real TensorFlow models, seconds
   each) and registers them in a local registry.
2. Synthesizes the demo's local stack (`examples/demo_stack.py`: three deployments of the
   recommendation model, one per story below), which writes each deployment's Policy next to
   it, as for any stack.
3. Brings the local platform up from those Policies (`tfprod up`'s code, `LocalPlatform`): one
   model server per version, the gateway, and `tfprod controller`, here with the demo's
   aggressive settings (a check each second over a 4 s window) so all of it takes about a
   minute or two. Synthetic traffic runs from then on.
4. The canary ramp: the controller walks rec-v2.1.1 through its steps to promotion; each
   decision is printed from the controller API's history as it is taken, with its time.
5. The A/B test: the demo's simulated users convert and click more often after answers from
   rec-v2.1.0 and send that as signed feedback; the controller's mSPRT decides and promotes
   the winner. Its significance, effect and interval are printed from the API's `/ab`.
6. The fault: the canary of `recommendation-fault` is told to answer 10% of its requests
   with 5xx (model-server fault injection); the controller rolls it back on its own. Printed:
   fault onset to rollback started (detection), to rollback committed (every gateway replica
   serving the canary at 0%), and the failed requests the traffic saw.
7. A summary; everything started is stopped.

    python examples/demo.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.demo_stack import (
    AB,
    CANARY,
    CHALLENGER,
    DEMO_CONTROLLER,
    FAULT,
    MODEL,
    RAMP,
    STABLE,
    STACK,
    VERSIONS,
    synthesize_demo,
)
from examples.register_models import register_versions
from tfprod.policy import ControllerSettings
from tfprod.runtime.local import LocalPlatform, PlatformOptions, stack_policies

REQUESTS_PER_SECOND = {RAMP: 40, AB: 60, FAULT: 40}
CONVERSION = {STABLE: 0.10, CHALLENGER: 0.25}
"""Chance that a user converts after an answer from each A/B arm: the effect the test finds."""
CLICK = {STABLE: 0.20, CHALLENGER: 0.35}
FAULT_PLAN = {"error_share": 0.1}
Json = dict[str, Any]


class Api:
    """A small client of one HTTP service: the controller and the gateway's admin API with
    the admin token, a model server's fault injection without one."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token

    def call(self, method: str, path: str, body: Json | None = None) -> Json:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(
                method,
                path,
                body=None if body is None else json.dumps(body),
                headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
            )
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {answer.decode()[:300]}")
        document: Json = json.loads(answer)
        return document


@dataclass
class Traffic:
    """Synthetic users of one deployment: a steady request rate through the gateway, answers
    tallied; with `feedback`, each answer may be followed by conversion and click events."""

    host: str
    port: int
    deployment: str
    rate: float
    feedback: bool = False
    variants: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[float] = field(default_factory=list)
    """Wall-clock times of the requests that got no 200."""
    events: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards the tallies, which the driver thread counts into and `window` swaps out."""

    def run(self) -> None:
        rng = random.Random(self.deployment)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        body = json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]})
        interval = 1 / self.rate
        next_at = time.perf_counter()
        while not self._stop.is_set():
            try:
                connection.request(
                    "POST",
                    f"/v1/models/{self.deployment}:predict",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                variant = response.getheader("X-Tfprod-Variant", "none")
                self._count(response.status, variant)
                request_id = response.getheader("X-Tfprod-Feedback-Id")
                if self.feedback and response.status == 200 and request_id:
                    for event, chances in (("conversion", CONVERSION), ("click", CLICK)):
                        if rng.random() < chances.get(variant, 0.0):
                            self._send(connection, request_id, event)
            except (OSError, http.client.HTTPException):
                self._count(0, "none")
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        connection.close()

    def _send(self, connection: http.client.HTTPConnection, request_id: str, event: str) -> None:
        connection.request(
            "POST",
            "/v1/feedback",
            body=json.dumps({"request_id": request_id, "event": event}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        with self._lock:
            self.events[event if response.status == 200 else f"{event} refused"] += 1

    def _count(self, status: int, variant: str) -> None:
        """Tallies one answer; status 0 is a request that got no HTTP answer at all."""
        with self._lock:
            self.statuses[status] += 1
            if status != 200:
                self.failures.append(time.time())
            if status:
                self.variants[variant] += 1

    def window(self) -> Counter[str]:
        """The variants that answered since the last call, resetting them."""
        with self._lock:
            variants, self.variants = self.variants, Counter()
        return variants

    def failed_since(self, wall_time: float) -> int:
        with self._lock:
            return sum(1 for at in self.failures if at >= wall_time)

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def running(traffic: list[Traffic]) -> Iterator[None]:
    threads = [threading.Thread(target=t.run, daemon=True) for t in traffic]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for t in traffic:
            t.stop()
        for thread in threads:
            thread.join()


def shares(variants: Counter[str]) -> str:
    total = sum(variants.values()) or 1
    return "  ".join(f"{name} {count / total:6.1%}" for name, count in sorted(variants.items()))


@dataclass
class Narrator:
    """Prints the controller's decisions from its API's history, each once, with its time
    since the platform came up."""

    controller: Api
    started: datetime
    seen: dict[str, int] = field(default_factory=dict)

    def since(self, at: str | datetime) -> float:
        """Seconds from the platform coming up to `at` (an API time, or a datetime)."""
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        return (moment - self.started).total_seconds()

    def line(self, at: str | datetime, action: str, reason: str) -> None:
        """One decision: UTC time of day, seconds since the platform came up, what, why."""
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        clock = moment.astimezone(UTC).strftime("%H:%M:%S.%f")[:10]
        offset = f"T{self.since(moment):+.1f} s"
        print(f"  {clock} ({offset:>9})  {action:<11} {reason}")

    def follow(
        self, deployment: str, done: Callable[[Json], bool], timeout: float = 120.0
    ) -> tuple[Json, list[Json]]:
        """Prints new decisions of `deployment` until `done(detail)`; the detail and every
        decision so far."""
        deadline = time.monotonic() + timeout
        while True:
            decisions = self.controller.call("GET", f"/v1/deployments/{deployment}/history")[
                "decisions"
            ]
            for record in decisions[self.seen.get(deployment, 0) :]:
                self.line(record["at"], record["action"], record["reason"])
            self.seen[deployment] = len(decisions)
            detail = self.controller.call("GET", f"/v1/deployments/{deployment}")
            if done(detail):
                return detail, decisions
            if time.monotonic() > deadline:
                raise SystemExit(f"{deployment} did not get there in {timeout:g} s: {detail}")
            time.sleep(0.2)


def settings_line(settings: ControllerSettings) -> str:
    defaults = ControllerSettings()
    return (
        f"a check every {settings.check_interval_seconds:g} s over a"
        f" {settings.evaluation_window_seconds:g} s window, {settings.failure_threshold} failing"
        f" check(s) act, {settings.min_samples} requests a window (demo settings; the defaults"
        f" are {defaults.check_interval_seconds:g} s, {defaults.evaluation_window_seconds:g} s,"
        f" {defaults.failure_threshold}, {defaults.min_samples})"
    )


def ramp(narrator: Narrator, traffic: Traffic) -> None:
    detail, _ = narrator.follow(RAMP, lambda d: d["phase"] == "promoted")
    traffic.window()
    time.sleep(1)
    answered = shares(traffic.window())
    print(f"  promoted: weights {detail['weights']}; traffic now answered by {answered}")


def ab_test(narrator: Narrator, traffic: Traffic) -> None:
    detail, _ = narrator.follow(AB, lambda d: d["phase"] == "promoted")
    result = narrator.controller.call("GET", f"/v1/deployments/{AB}/ab")
    print(f"  result: {result['result']}")
    for metric in result["metrics"]:
        low, high = metric["interval"]
        print(
            f"  {metric['metric']}: winner {metric['winner']}, statistical_significance"
            f" {metric['statistical_significance']:.4f}, effect {metric['effect']:+.4f}"
            f" (relative lift {metric['relative_lift']:+.1%}), interval [{low:+.4f}, {high:+.4f}];"
            f" samples {metric['control_samples']:g} {STABLE}, {metric['treatment_samples']:g}"
            f" {CHALLENGER}"
        )
    print(
        f"  feedback sent: {dict(sorted(traffic.events.items()))};"
        f" winner {detail['promoted_version']} now takes weights {detail['weights']}"
    )


def fault(narrator: Narrator, platform: LocalPlatform, traffic: Traffic, gateway: Api) -> None:
    narrator.follow(FAULT, lambda d: d["phase"] == "progressing")
    time.sleep(DEMO_CONTROLLER.evaluation_window_seconds)  # a healthy window first
    endpoints = platform.status_dir.parent / "policies" / FAULT / "endpoints.json"
    server = json.loads(endpoints.read_text(encoding="utf-8"))[CANARY]
    onset = datetime.now(UTC)
    Api(server, "").call("PUT", "/admin/v1/faults", FAULT_PLAN)
    narrator.line(onset, "fault", f"{CANARY} answers 10% of its requests with 5xx")
    _, decisions = narrator.follow(FAULT, lambda d: d["phase"] == "rolled_back")
    started = next(r for r in decisions if r["action"] == "rollback")
    committed = next(r for r in decisions if r["action"] == "rolled_back")
    served = gateway.call("GET", "/admin/v1/state")["models"][FAULT]
    traffic.window()
    time.sleep(1)
    print(
        f"  the gateway serves generation {served['generation']}: {CANARY} at"
        f" {served['weights'][CANARY]:g}%; traffic now answered by {shares(traffic.window())}"
    )
    detected = narrator.since(started["at"]) - narrator.since(onset)
    print(f"  detection (fault onset -> rollback started): {detected:.2f} s")
    done = narrator.since(committed["at"]) - narrator.since(onset)
    print(f"  rollback committed (fault onset -> every gateway replica at 0%): {done:.2f} s")
    print(
        "  failed requests seen by the traffic since the onset:"
        f" {traffic.failed_since(onset.timestamp())}; canary answers the gateway retried on"
        f" the safety net's fallback {STABLE}: {fallbacks(gateway, FAULT, CANARY):g}"
    )


def fallbacks(gateway: Api, deployment: str, variant: str) -> float:
    """`tfprod_gateway_fallback_requests_total` of `variant` on the gateway's /metrics."""
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    labels = f'model="{deployment}",variant="{variant}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("tfprod_gateway_fallback_requests_total{") and labels in line
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, default=Path(".tfprod/demo"))
    workdir: Path = parser.parse_args(argv).workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    registry_uri = (workdir / "registry").as_uri()
    wall = time.perf_counter()

    print("1. training the recommendation model's versions")
    register_versions(registry_uri, [(MODEL, v) for v in VERSIONS], workdir / "training")

    print(f"2. synthesizing the demo's local stack ({STACK}, examples/demo_stack.py)")
    synthesize_demo(workdir / "cdktf.out", registry_uri)
    policies = stack_policies(workdir / "cdktf.out", STACK)
    for policy in policies:
        roles = ", ".join(f"{v.id} {v.role}" for v in policy.versions)
        print(f"  {policy.name}: {roles}")

    print("3. starting the model servers, the gateway and the controller")
    options = PlatformOptions(workdir=workdir / "up", gateway_port=0, fault_injection=True)
    starting = time.perf_counter()
    with LocalPlatform(policies, options) as platform:
        servers = sum(len(policy.versions) for policy in policies)
        took = time.perf_counter() - starting
        print(f"  {servers} model servers (started one by one), gateway, controller: {took:.0f} s")
        token = platform.admin_token_file.read_text(encoding="utf-8").strip()
        controller, gateway = Api(platform.controller_url, token), Api(platform.gateway_url, token)
        narrator = Narrator(controller, datetime.now(UTC))
        print(f"  gateway {platform.gateway_url}, controller {platform.controller_url}")
        print(f"  controller: {settings_line(DEMO_CONTROLLER)}")
        traffic = {
            name: Traffic(
                host=gateway.host,
                port=gateway.port,
                deployment=name,
                rate=rate,
                feedback=name == AB,
            )
            for name, rate in REQUESTS_PER_SECOND.items()
        }
        rates = ", ".join(f"{name} {rate}/s" for name, rate in REQUESTS_PER_SECOND.items())
        print(f"  synthetic traffic from now on: {rates}")
        with running(list(traffic.values())):
            print(f"4. canary ramp: the controller walks {CANARY} to promotion ({RAMP})")
            ramp(narrator, traffic[RAMP])
            print(
                f"5. A/B test: {STABLE} against {CHALLENGER}, decided from conversion and click"
                f" feedback ({AB}; users convert {CONVERSION[STABLE]:.0%} vs"
                f" {CONVERSION[CHALLENGER]:.0%}, click {CLICK[STABLE]:.0%} vs"
                f" {CLICK[CHALLENGER]:.0%})"
            )
            ab_test(narrator, traffic[AB])
            print(f"6. fault: {CANARY} answers 10% 5xx in {FAULT}; the controller rolls it back")
            fault(narrator, platform, traffic[FAULT], gateway)

    print("7. summary")
    for name, tally in traffic.items():
        answered = sum(tally.statuses.values())
        failed = answered - tally.statuses[200]
        print(f"  {name}: {answered} requests, {failed} failed")
    print(f"  every process stopped; demo wall time {time.perf_counter() - wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
