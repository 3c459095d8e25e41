"""The wrapped observe sources record what the controller saw, drift included: directly from a
replica's `/metrics`, and through a real Prometheus (Debian's) scraping it every second.

The replica here is an aiohttp app serving fixed text in the gateway's exposition format (the
real gateway's drift export is covered by tests/drift and the browser test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.gateway.upstream import ServerThread
from tests.observe.processes import prometheus_server
from tests.policy.helpers import minimal_policy
from tests.services import free_port
from tfprod.policy import Policy
from tfprod.runtime.dashboard import ObservationLog, recorded_gateways, recorded_prometheus
from tfprod.runtime.observe import GatewayScrapeSource, PrometheusSource

pytestmark = [pytest.mark.slow, pytest.mark.service]
JOB = "tfprod-gateway"
NAMESPACE = "ml"
EXPOSITION = """\
# TYPE tfprod_gateway_requests_total counter
tfprod_gateway_requests_total{model="rec",variant="rec-v2.0.0",code="200"} 40
tfprod_gateway_requests_total{model="rec",variant="rec-v2.1.0",code="200"} 9
tfprod_gateway_requests_total{model="rec",variant="rec-v2.1.0",code="503",outcome="failed"} 1
# TYPE tfprod_gateway_status_generation gauge
tfprod_gateway_status_generation{deployment="rec"} 3
# TYPE tfprod_drift_score gauge
tfprod_drift_score{deployment="rec",feature="f0"} 0.42
tfprod_drift_score{deployment="rec",feature="f1"} 0.01
tfprod_drift_score{deployment="other",feature="f0"} 7
# TYPE tfprod_drift_detected gauge
tfprod_drift_detected{deployment="rec",feature="f0"} 1
tfprod_drift_detected{deployment="rec",feature="f1"} 0
"""
DRIFT = [
    {"feature": "f0", "score": 0.42, "detected": True},
    {"feature": "f1", "score": 0.01, "detected": False},
]


def policy(**extra: Any) -> Policy:
    return Policy.model_validate(minimal_policy(name="rec", namespace=NAMESPACE, **extra))


WITH_DRIFT = {
    "drift": {"reference_uri": "s3://refs/rec.json", "threshold": 0.2, "window_seconds": "1h"}
}


@pytest.fixture(scope="module")
def replica() -> Iterator[str]:
    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=EXPOSITION, content_type="text/plain")

    def app() -> web.Application:
        application = web.Application()
        application.router.add_get("/metrics", metrics)
        return application

    servers = ServerThread()
    try:
        yield servers.serve(app)
    finally:
        servers.close()


def test_the_direct_source_records_drift_from_the_same_reads(replica: str) -> None:
    with_monitor, without = ObservationLog(), ObservationLog()

    async def run() -> None:
        async with GatewayScrapeSource(replicas=[replica]) as source:
            seen = await recorded_gateways(source, with_monitor)(policy(**WITH_DRIFT))
            assert seen.replica_generations == {replica.removeprefix("http://"): 3}
            await recorded_gateways(source, without)(policy())

    asyncio.run(run())

    document = with_monitor.metrics(policy(**WITH_DRIFT))
    assert (document["drift"], document["drift_threshold"]) == (DRIFT, 0.2)
    assert without.metrics(policy())["drift"] is None  # no drift monitor declared: none recorded


def test_the_prometheus_source_records_drift_from_its_own_queries(
    replica: str, tmp_path: Path
) -> None:
    target = replica.removeprefix("http://")
    with prometheus_server(tmp_path, {JOB: [target]}, labels={"namespace": NAMESPACE}) as url:
        log = ObservationLog()

        async def observe_once() -> int:
            async with PrometheusSource(url=url, job=JOB) as source:
                seen = await recorded_prometheus(source, log)(policy(**WITH_DRIFT))
                return len(seen.replicas)

        deadline = time.monotonic() + 60
        while asyncio.run(observe_once()) == 0 and time.monotonic() < deadline:
            time.sleep(0.5)  # until Prometheus has scraped the replica once
        document = log.metrics(policy(**WITH_DRIFT))

    assert document["drift"] == DRIFT
    assert document["source_errors"] == {}


def test_prometheus_unreachable_records_no_drift_and_the_source_error() -> None:
    log = ObservationLog()

    async def run() -> None:
        async with PrometheusSource(url=f"http://127.0.0.1:{free_port()}", job=JOB) as source:
            await recorded_prometheus(source, log)(policy(**WITH_DRIFT))

    asyncio.run(run())

    document = log.metrics(policy(**WITH_DRIFT))
    assert document["drift"] is None
    assert list(document["source_errors"]) == ["prometheus"]
