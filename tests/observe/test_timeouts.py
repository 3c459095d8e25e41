"""A source that gets no answer in time reports a source error naming what it waited for."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.alerting.conftest import minimal_policy
from tfprod.runtime.controller import Observation
from tfprod.runtime.observe import GatewayScrapeSource, PrometheusSource


@pytest.fixture
def silent() -> Iterator[str]:
    """A loopback address that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host, port = listener.getsockname()
        yield f"http://{host}:{port}"


def test_prometheus_that_does_not_answer_in_time_is_a_source_error(silent: str) -> None:
    async def run() -> Observation:
        async with PrometheusSource(url=silent, job="tfprod-gateway", timeout_seconds=0.3) as s:
            return await s.observe(minimal_policy())

    observation = asyncio.run(run())
    assert (observation.versions, observation.replicas) == ({}, {})
    [(source, message)] = observation.source_errors.items()
    assert source == "prometheus"
    assert message.startswith(f"{silent}/api/v1/query ")
    assert message.endswith(": no answer within 0.3 s")


def test_a_replica_that_does_not_answer_in_time_is_a_source_error_naming_it(silent: str) -> None:
    async def run() -> Observation:
        async with GatewayScrapeSource(replicas=[silent], timeout_seconds=0.3) as source:
            return await source.observe(minimal_policy())

    replica = silent.removeprefix("http://")
    assert asyncio.run(run()) == Observation(
        source_errors={f"gateway {replica}": f"GET {silent}/metrics timed out after 0.3 s"}
    )


def test_sources_refuse_settings_that_cannot_work() -> None:
    with pytest.raises(ValueError, match=r"^replicas: give at least one gateway base URL"):
        GatewayScrapeSource(replicas=[])
    with pytest.raises(ValueError, match=r"^url 'prom:9090' is not valid: give http://host:port"):
        PrometheusSource(url="prom:9090", job="tfprod-gateway")
