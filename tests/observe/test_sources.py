"""Both observe sources against real processes on loopback: two `tfprod gateway` replicas
routing to the real model server (`tfprod serve`, a tiny trained model) and to a loopback
server answering 500, scraped every second by a real Prometheus."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.conftest import BODY
from tests.gateway.model_server import export_versions, model_server
from tests.gateway.upstream import FakeModelServer, ServerThread
from tests.observe.processes import gateway_process, mount_policies, prometheus_server
from tests.services import free_port
from tfprod.policy import Policy
from tfprod.runtime.controller import FeedbackCounters, Observation
from tfprod.runtime.controller.totals import ingest
from tfprod.runtime.observe import (
    GatewayScrapeSource,
    PrometheusError,
    PrometheusSource,
    parse_exposition,
    replica_name,
)

pytestmark = [pytest.mark.slow, pytest.mark.service]
JOB = "tfprod-gateway"
JOB_WITH_A_DEAD_TARGET = "tfprod-gateway-and-a-dead-one"
NAMESPACE = "ml"


def policy(name: str, versions: dict[str, str], weights: dict[str, float], **extra: Any) -> Policy:
    return Policy.model_validate(
        {
            "name": name,
            "namespace": NAMESPACE,
            "environment": "staging",
            "model": "clf",
            "versions": [
                {"id": version, "artifact": f"file:///registry/models/clf/versions/{i}",
                 "role": role}
                for i, (version, role) in enumerate(versions.items(), start=1)
            ],
            "traffic": {"weights": weights},
            **extra,
        }
    )  # fmt: skip


# Every scorer request goes to s2, which answers 500; the fallback s1 answers instead.
SCORER = policy(
    "scorer",
    {"s1": "stable", "s2": "canary"},
    {"s1": 0, "s2": 100},
    safety={"fallback_version": "s1", "triggers": {"error_rate > 50%": "alert_and_monitor"}},
)
# A version id with regex metacharacters, as ids often have.
RANKER = policy("ranker", {"ranker-v1.0": "stable"}, {"ranker-v1.0": 100})
# Requests sent to each replica: (scorer, ranker).
TRAFFIC = {"a": (6, 4), "b": (3, 5)}


@dataclass(frozen=True)
class Platform:
    replicas: dict[str, str]
    """Replica name (a, b) -> base URL."""
    prometheus: str
    dead: str
    """host:port where nothing listens, a Prometheus target of JOB_WITH_A_DEAD_TARGET."""
    policies: Path
    flags: tuple[str, ...]
    """The replicas' command-line flags besides --policies and --port."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    root = tmp_path_factory.mktemp("observe")
    failing = FakeModelServer()
    failing.fail_with = 500
    servers = ServerThread()
    key = root / "feedback-key"
    key.write_text(os.urandom(32).hex() + "\n")
    try:
        failing_url = servers.serve(failing.app)
        with model_server(export_versions(root / "models", {1: 0})) as (_process, served):
            policies = mount_policies(
                root / "policies",
                [(SCORER, {"s1": served, "s2": failing_url}), (RANKER, {"ranker-v1.0": served})],
            )
            ports = {name: free_port() for name in TRAFFIC}
            dead = f"127.0.0.1:{free_port()}"
            flags = ("--feedback-key-file", str(key))
            with (
                gateway_process(policies, ports["a"], *flags) as a,
                gateway_process(policies, ports["b"], *flags) as b,
                prometheus_server(
                    root / "prometheus",
                    {JOB: [replica_name(a), replica_name(b)],
                     JOB_WITH_A_DEAD_TARGET: [replica_name(a), dead]},
                    labels={"namespace": NAMESPACE},
                ) as prometheus,
            ):  # fmt: skip
                platform = Platform(
                    replicas={"a": a, "b": b},
                    prometheus=prometheus,
                    dead=dead,
                    policies=policies,
                    flags=flags,
                )
                send_traffic(platform)
                yield platform
    finally:
        servers.close()


def send_traffic(platform: Platform) -> None:
    """TRAFFIC's predictions, then one conversion and one revenue event on replica a and one
    revenue event on replica b, each for a ranker request."""
    ranker_ids: list[str] = []
    for name, (scorer, ranker) in TRAFFIC.items():
        with httpx.Client(base_url=platform.replicas[name], timeout=30) as client:
            for _ in range(scorer):
                # The fallback answers for the failing s2.
                assert client.post("/v1/models/scorer:predict", content=BODY).status_code == 200
            for _ in range(ranker):
                answer = client.post("/v1/models/ranker:predict", content=BODY)
                assert answer.status_code == 200
                ranker_ids.append(answer.headers["X-Request-Id"])
    feedback = {
        "a": [(ranker_ids[0], "conversion", None), (ranker_ids[1], "revenue", 2.5)],
        "b": [(ranker_ids[5], "revenue", 4.0)],
    }
    for name, events in feedback.items():
        with httpx.Client(base_url=platform.replicas[name], timeout=30) as client:
            for request_id, event, value in events:
                body: dict[str, object] = {"request_id": request_id, "event": event}
                if value is not None:
                    body["value"] = value
                counted = client.post("/v1/feedback", json=body)
                assert (counted.status_code, counted.json()["variant"]) == (200, "ranker-v1.0")


def observe_direct(platform: Platform, deployment: Policy, *urls: str) -> Observation:
    async def run() -> Observation:
        replicas = urls or tuple(platform.replicas.values())
        async with GatewayScrapeSource(replicas=replicas) as source:
            return await source.observe(deployment)

    return asyncio.run(run())


def observe_prometheus(url: str, deployment: Policy, job: str = JOB) -> Observation:
    async def run() -> Observation:
        async with PrometheusSource(url=url, job=job) as source:
            return await source.observe(deployment)

    return asyncio.run(run())


def eventually(
    observe: Callable[[], Observation], done: Callable[[Observation], bool]
) -> Observation:
    """Observes until `done` (Prometheus scrapes every second); ordering, not timing."""
    deadline = time.monotonic() + 30
    while True:
        observation = observe()
        if done(observation) or time.monotonic() > deadline:
            return observation
        time.sleep(0.2)


def name(platform: Platform, replica: str) -> str:
    return replica_name(platform.replicas[replica])


def test_direct_source_counts_each_replicas_requests_errors_and_feedback_exactly(
    platform: Platform,
) -> None:
    scorer = observe_direct(platform, SCORER)
    ranker = observe_direct(platform, RANKER)
    a, b = name(platform, "a"), name(platform, "b")

    assert scorer.source_errors == {}
    # s2 failed every request it got, each answered by the fallback, whose answers (series
    # s1-fallback) count for no version: s1 took no traffic of its own.
    assert {
        replica: {v: (c.requests, c.errors) for v, c in versions.items()}
        for replica, versions in scorer.replicas.items()
    } == {a: {"s2": (6.0, 6.0)}, b: {"s2": (3.0, 3.0)}}
    assert {
        replica: {v: (c.requests, c.errors) for v, c in versions.items()}
        for replica, versions in ranker.replicas.items()
    } == {a: {"ranker-v1.0": (4.0, 0.0)}, b: {"ranker-v1.0": (5.0, 0.0)}}
    a_ranker, b_ranker = ranker.replicas[a]["ranker-v1.0"], ranker.replicas[b]["ranker-v1.0"]
    assert a_ranker.latency is not None and b_ranker.latency is not None
    assert (a_ranker.latency.cumulative_counts[-1], b_ranker.latency.cumulative_counts[-1]) == (
        4.0,
        5.0,
    )
    assert len(a_ranker.latency.cumulative_counts) == len(a_ranker.latency.upper_bounds) + 1
    assert a_ranker.feedback == {
        "conversion": FeedbackCounters(count=1.0, total=1.0, sum_of_squares=0.0),
        "revenue": FeedbackCounters(count=1.0, total=2.5, sum_of_squares=6.25),
    }
    assert b_ranker.feedback == {
        "revenue": FeedbackCounters(count=1.0, total=4.0, sum_of_squares=16.0)
    }


def test_both_sources_give_the_same_observation_after_a_scrape(platform: Platform) -> None:
    for deployment in (SCORER, RANKER):
        expected = observe_direct(platform, deployment)
        seen = eventually(
            lambda d=deployment: observe_prometheus(platform.prometheus, d),
            lambda observation, e=expected: observation.replicas == e.replicas,
        )
        assert seen == expected


def test_each_replica_reports_the_status_generation_it_serves(platform: Platform) -> None:
    """Without a status document both replicas serve the declared weights: generation 0."""
    expected = {name(platform, "a"): 0, name(platform, "b"): 0}
    assert observe_direct(platform, RANKER).replica_generations == expected
    seen = eventually(
        lambda: observe_prometheus(platform.prometheus, RANKER),
        lambda observation: observation.replica_generations == expected,
    )
    assert seen.replica_generations == expected


def test_the_parser_reads_a_real_gateway_scrape_as_prometheus_client_does(
    platform: Platform,
) -> None:
    text = httpx.get(f"{platform.replicas['a']}/metrics").text
    theirs = [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]
    ours = [(sample.name, dict(sample.labels), sample.value) for sample in parse_exposition(text)]
    assert ours == theirs
    s2 = [
        (labels["outcome"], value)
        for sample, labels, value in ours
        if sample == "tfprod_gateway_requests_total" and labels.get("variant") == "s2"
    ]
    assert {outcome for outcome, _ in s2} == {"fell_back"}
    assert sum(value for _, value in s2) == 6.0


def test_prometheus_unreachable_is_a_source_error_not_zeros(platform: Platform) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    observation = observe_prometheus(url, RANKER)
    assert (observation.versions, observation.replicas, observation.replica_generations) == (
        {},
        {},
        {},
    )
    assert list(observation.source_errors) == ["prometheus"]
    assert observation.source_errors["prometheus"].startswith(f"{url}/api/v1/query ")
    assert "Cannot connect to host 127.0.0.1" in observation.source_errors["prometheus"]


def test_a_query_prometheus_refuses_is_an_error_naming_the_query(platform: Platform) -> None:
    async def run() -> None:
        async with PrometheusSource(url=platform.prometheus, job=JOB) as source:
            await source.query("sum(")

    with pytest.raises(PrometheusError) as raised:
        asyncio.run(run())
    assert str(raised.value).startswith(f"{platform.prometheus}/api/v1/query 'sum(': bad_data: ")


def test_a_gateway_target_prometheus_cannot_scrape_is_a_source_error_naming_it(
    platform: Platform,
) -> None:
    job = JOB_WITH_A_DEAD_TARGET
    message = f"gateway target(s) of job {job!r} down in Prometheus: {platform.dead}"
    observation = eventually(
        lambda: observe_prometheus(platform.prometheus, RANKER, JOB_WITH_A_DEAD_TARGET),
        lambda observation: observation.source_errors.get("prometheus") == message,
    )
    assert observation == Observation(source_errors={"prometheus": message})


def test_a_replica_that_does_not_answer_is_a_source_error_naming_it(platform: Platform) -> None:
    dead = f"http://{platform.dead}"
    observation = observe_direct(platform, RANKER, platform.replicas["a"], dead)
    assert list(observation.source_errors) == [f"gateway {platform.dead}"]
    assert observation.source_errors[f"gateway {platform.dead}"].startswith(
        f"GET {dead}/metrics failed: Cannot connect to host"
    )
    assert list(observation.replicas) == [name(platform, "a")]


def rank(url: str, requests: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(requests):
            assert client.post("/v1/models/ranker:predict", content=BODY).status_code == 200


def test_a_restarted_replica_resets_only_its_own_series(platform: Platform) -> None:
    """A replica's counters start again at 0 when it restarts; reported per replica, the
    controller rebases that replica's series alone and keeps counting the others'."""
    port = free_port()
    replicas = (platform.replicas["a"], f"http://127.0.0.1:{port}")
    restarted = f"127.0.0.1:{port}"
    with gateway_process(platform.policies, port, *platform.flags) as url:
        rank(url, 3)
        before = observe_direct(platform, RANKER, *replicas)
    with gateway_process(platform.policies, port, *platform.flags) as url:
        rank(url, 1)
        rank(platform.replicas["a"], 2)
        after = observe_direct(platform, RANKER, *replicas)

    a = name(platform, "a")
    assert before.replicas[restarted]["ranker-v1.0"].requests == 3.0
    assert after.replicas[restarted]["ranker-v1.0"].requests == 1.0
    assert (
        after.replicas[a]["ranker-v1.0"].requests - before.replicas[a]["ranker-v1.0"].requests
        == 2.0
    )
    first = ingest({}, {}, before.counters())
    second = ingest(first.raw, first.totals, after.counters())
    assert second.reset_reason == (
        f"counter reset ({restarted}/ranker-v1.0 requests went down from 3 to 1):"
        " this check's totals are rebased"
    )
    assert second.totals["ranker-v1.0"].requests == 2.0
