"""The controller's Kubernetes actuator against the stand-in API server: failover and conflicts.

The stand-in (`tests/kube/fake_apiserver.py`) is not a real API server (none can be had here
until issue 13); it speaks the paths, verbs and resourceVersion conflicts the actuator uses.
Prints, measured in one run:

- Lease failover when the leader is cut off from the API server (it stops renewing): time from
  the cut to the rival leading, and the gap in which nobody led, against the bound the timing
  gives (`lease_duration + retry_period` after the last renewal);
- handover when the leader stops and releases the Lease: time from `stop()` to the rival
  leading (bound: one `retry_period` plus a request);
- N writers x M increments of a counter in one status ConfigMap: the 409 Conflicts met and
  retried, the most met by one write, and write latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable

from tests.kube.fake_apiserver import FakeApiServer, running
from tfprod.runtime.kube import ConfigMapStatusStore, LeaseElector, LeaseTiming, api_client

TIMING = LeaseTiming(lease_duration=3, renew_deadline=2, retry_period=1)
TOKENS = {f"token-{index}" for index in range(16)}


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise SystemExit("timed out waiting for a leader")
        time.sleep(0.005)
    return time.monotonic()


def elector(api: FakeApiServer, index: int) -> LeaseElector:
    return LeaseElector(
        api_client(host=api.url, token=f"token-{index}"),
        namespace="ml",
        name="bench",
        identity=f"c{index}",
        timing=TIMING,
    )


def failover(rounds: int) -> tuple[list[float], list[float], list[float]]:
    """(cut -> rival leads, nobody-leads gap, stop+release -> rival leads) per round."""
    cut, gap, handover = [], [], []
    for _ in range(rounds):
        with running(TOKENS) as api:
            first, second = elector(api, 0), elector(api, 1)
            first.start()
            wait_until(first.is_leader)
            second.start()
            time.sleep(TIMING.retry_period * 1.5)
            api.partition("token-0")
            cut_at = time.monotonic()
            led_at = wait_until(second.is_leader)
            cut.append(led_at - cut_at)
            gap.append(second.terms[0].start - first.terms[-1].end)
            api.heal("token-0")
            stop_at = time.monotonic()
            second.stop()
            handover.append(wait_until(first.is_leader) - stop_at)
            first.stop()
    return cut, gap, handover


def contention(writers: int, increments: int) -> tuple[int, int, list[float]]:
    """(409s sent, most 409s met by one write, write latencies in s)."""
    latencies: list[float] = []
    most = 0
    lock = threading.Lock()

    def increment(current: str | None) -> str:
        count = 0 if current is None else json.loads(current)["generation"]
        return json.dumps({"generation": count + 1})

    with running(TOKENS) as api:
        stores = [
            ConfigMapStatusStore(
                api_client(host=api.url, token=f"token-{index}"),
                namespace="ml",
                deployment="bench",
                key="status.json",
                max_attempts=100,
            )
            for index in range(writers)
        ]
        barrier = threading.Barrier(writers)

        def work(store: ConfigMapStatusStore) -> None:
            nonlocal most
            barrier.wait()
            for _ in range(increments):
                started = time.perf_counter()
                written = store.update_status(increment)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    most = max(most, written.conflicts)

        threads = [threading.Thread(target=work, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = stores[0].read()
        assert final is not None and final.generation == writers * increments, final
        return api.counts["Conflict"] + api.counts["AlreadyExists"], most, latencies


def describe(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="failovers to measure")
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--increments", type=int, default=15)
    args = parser.parse_args()

    timing = (
        f"lease {TIMING.lease_duration} s, renew deadline {TIMING.renew_deadline} s, "
        f"retry {TIMING.retry_period} s"
    )
    print(f"Lease failover over {args.rounds} rounds ({timing}):")
    cut, gap, handover = failover(args.rounds)
    print(f"  leader cut off -> rival leads: {describe(cut)}")
    print(f"    bound after the last renewal: {TIMING.lease_duration + TIMING.retry_period} s")
    print(f"  nobody led for:                {describe(gap)} (> 0: never both)")
    print(f"  leader stops and releases -> rival leads: {describe(handover)}")
    print(f"    bound: one retry period ({TIMING.retry_period} s) plus a request")
    writes = args.writers * args.increments
    print(f"Status ConfigMap, {args.writers} writers x {args.increments} increments:")
    conflicts, most, latencies = contention(args.writers, args.increments)
    latencies.sort()
    print(
        f"  409s met and retried: {conflicts} over {writes} writes ({conflicts / writes:.2f} each)"
    )
    print(f"  most 409s met by one write: {most}; final counter exactly {writes}")
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print(
        f"  write latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p90 {p90 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
