"""How fresh each observe source is, measured side by side in one run.

Two `tfprod gateway` replicas (real processes, `--policies`) route to a fixed-answer loopback
upstream under a steady load; a real Prometheus (Debian `prometheus`) scrapes both every
`--scrape-interval` seconds. Each check, in turn:

- direct: `GatewayScrapeSource.observe` of both replicas; its counters are as old as the
  scrape takes, so the figure is the scrape's duration;
- Prometheus: `PrometheusSource.observe` (its duration), and the age of the counters it
  returned: now minus the newest scrape timestamp of the deployment's request series
  (`timestamp()`), which is what a fault waits before Prometheus can show it.

Prints medians and maxima over `--checks` checks and their ratio. The machine's load shows in
every figure: quote medians.

    python bench/observe.py [--checks 40] [--scrape-interval 1] [--rps 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.gateway.upstream import FakeModelServer, ServerThread
from tests.observe.processes import (
    gateway_process,
    mount_policies,
    prometheus_server,
)
from tfprod.policy import Policy
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.observe import GatewayScrapeSource, PrometheusSource, replica_name

JOB = "tfprod-gateway"
BODY = b'{"instances": [[1.0, 2.0, 3.0, 4.0]]}'
POLICY = Policy.model_validate(
    {
        "name": "ranker",
        "namespace": "ml",
        "environment": "staging",
        "model": "clf",
        "versions": [
            {"id": "r1", "artifact": "file:///registry/models/clf/versions/1", "role": "stable"}
        ],
        "traffic": {"weights": {"r1": 100}},
    }
)


def load(urls: list[str], rps: float, stop: threading.Event) -> None:
    """`rps` requests a second, alternating between the replicas, until `stop`."""
    clients = [httpx.Client(base_url=url, timeout=10) for url in urls]
    sent = 0
    start = time.monotonic()
    while not stop.is_set():
        clients[sent % len(clients)].post("/v1/models/ranker:predict", content=BODY)
        sent += 1
        pause = start + sent / rps - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    for client in clients:
        client.close()


async def measure(urls: list[str], prometheus: str, checks: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"direct": [], "prometheus": [], "staleness": []}
    age = (
        f"time() - max(timestamp(tfprod_gateway_requests_total{{job={JOB!r}, model='ranker'}}))"
    ).replace("'", '"')
    async with (
        GatewayScrapeSource(replicas=urls) as direct,
        PrometheusSource(url=prometheus, job=JOB) as source,
    ):
        deadline = time.monotonic() + 60
        while (await source.observe(POLICY)).source_errors:  # until both targets were scraped
            if time.monotonic() > deadline:
                raise SystemExit("Prometheus did not scrape both gateways within 60 s")
            await asyncio.sleep(0.2)
        for _ in range(checks):
            started = time.perf_counter()
            seen = await direct.observe(POLICY)
            figures["direct"].append(time.perf_counter() - started)
            assert not seen.source_errors, seen.source_errors
            started = time.perf_counter()
            through = await source.observe(POLICY)
            figures["prometheus"].append(time.perf_counter() - started)
            assert not through.source_errors, through.source_errors
            [(_labels, seconds)] = await source.query(age)
            figures["staleness"].append(seconds)
            await asyncio.sleep(0.25)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=40)
    parser.add_argument("--scrape-interval", type=float, default=1.0)
    parser.add_argument("--rps", type=float, default=40.0)
    args = parser.parse_args()
    upstream = FakeModelServer()
    servers = ServerThread()
    stop = threading.Event()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            policies = mount_policies(
                root / "policies", [(POLICY, {"r1": servers.serve(upstream.app)})]
            )
            with (
                gateway_process(policies, free_port()) as a,
                gateway_process(policies, free_port()) as b,
                prometheus_server(
                    root / "prometheus",
                    {JOB: [replica_name(a), replica_name(b)]},
                    labels={"namespace": "ml"},
                    scrape_interval=f"{args.scrape_interval:g}s",
                ) as prometheus,
            ):
                loader = threading.Thread(target=load, args=([a, b], args.rps, stop))
                loader.start()
                try:
                    figures = asyncio.run(measure([a, b], prometheus, args.checks))
                finally:
                    stop.set()
                    loader.join()
    finally:
        servers.close()
    direct = statistics.median(figures["direct"])
    staleness = statistics.median(figures["staleness"])
    print(f"checks: {args.checks}, scrape interval {args.scrape_interval:g} s, {args.rps:g} rps")
    for name, label in (
        ("direct", "direct scrape of 2 replicas (s)"),
        ("prometheus", "Prometheus observe, 7 queries (s)"),
        ("staleness", "Prometheus counters' age (s)"),
    ):
        values = figures[name]
        print(f"{label:38} median {statistics.median(values):.4f}  max {max(values):.4f}")
    print(f"Prometheus staleness / direct scrape time (medians): {staleness / direct:.0f}x")


if __name__ == "__main__":
    main()
