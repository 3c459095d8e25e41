"""Lease leader election against the real kube-apiserver (tests/kube has the same behaviours,
and a partitioned leader, against the fast stand-in). The Lease is a real
`coordination.k8s.io/v1` object: the server checks its resourceVersions and MicroTimes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient, CoordinationV1Api, CoreV1Api, V1Namespace, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from tests.apiserver.cluster import Cluster
from tests.kube.candidate import FAST
from tests.kube.test_election import Candidate, overlapping, wait_until
from tfprod.runtime.kube import LeaseElector, Term

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEASE = "tfprod-controller"
CANDIDATE_NAMESPACE = "ml"
"""The namespace tests/kube/candidate.py competes in."""


def create_namespace(admin: ApiClient, name: str) -> None:
    try:
        CoreV1Api(admin).create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    except ApiException as error:
        if error.status != 409:
            raise


@pytest.fixture
def namespace(admin: ApiClient) -> str:
    name = f"lease-{uuid.uuid4().hex[:8]}"
    create_namespace(admin, name)
    return name


def holder(admin: ApiClient, namespace: str) -> str | None:
    lease = CoordinationV1Api(admin).read_namespaced_lease(LEASE, namespace)
    identity: str | None = lease.spec.holder_identity
    return identity


@pytest.fixture
def candidates(cluster: Cluster, namespace: str) -> Iterator[Callable[[str], Candidate]]:
    made: list[Candidate] = []
    clients: list[ApiClient] = []

    def make(name: str) -> Candidate:
        candidate: Candidate

        def started() -> None:
            candidate.events.append(("started", candidate.elector.is_leader()))

        def stopped() -> None:
            candidate.events.append(("stopped", candidate.elector.is_leader()))

        clients.append(cluster.client(f"token-{name}"))
        elector = LeaseElector(
            clients[-1],
            namespace=namespace,
            name=LEASE,
            identity=f"controller-{name}",
            timing=FAST,
            on_started=started,
            on_stopped=stopped,
        )
        candidate = Candidate(elector)
        made.append(candidate)
        return candidate

    yield make
    for candidate in made:
        candidate.stop()
    for client in clients:
        client.close()


def test_racing_candidates_create_the_lease_once_and_one_leads(
    candidates: Callable[[str], Candidate], admin: ApiClient, namespace: str
) -> None:
    racers = [candidates(name) for name in "abc"]
    for racer in racers:
        racer.start()

    wait_until(lambda: any(racer.elector.is_leader() for racer in racers))

    leaders = [racer for racer in racers if racer.elector.is_leader()]
    assert len(leaders) == 1
    assert holder(admin, namespace) == leaders[0].elector.identity
    leases = CoordinationV1Api(admin).list_namespaced_lease(namespace).items
    assert [lease.metadata.name for lease in leases] == [LEASE]


def test_callbacks_run_after_is_leader_has_turned(
    candidates: Callable[[str], Candidate],
) -> None:
    alone = candidates("a")
    alone.start()
    wait_until(alone.elector.is_leader)

    alone.stop()

    assert alone.events == [("started", True), ("stopped", False)]


def test_a_stopped_leader_hands_the_lease_back(
    candidates: Callable[[str], Candidate], admin: ApiClient, namespace: str
) -> None:
    first, second = candidates("a"), candidates("b")
    first.start()
    wait_until(first.elector.is_leader)
    second.start()

    first.stop()

    assert holder(admin, namespace) in (None, "controller-b")
    wait_until(second.elector.is_leader)
    assert holder(admin, namespace) == "controller-b"
    assert overlapping(first.elector.terms, second.elector.terms) == []


class Process:
    """A candidate process (tests/kube/candidate.py) against the real server."""

    def __init__(self, cluster: Cluster, name: str, out: Path) -> None:
        self.out = out
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.kube.candidate", cluster.url, f"token-{name}",
             f"controller-{name}", str(out), str(cluster.ca_file)],
            cwd=ROOT,
        )  # fmt: skip

    def lines(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        text = self.out.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]

    def acts(self) -> list[float]:
        return [line["act"] for line in self.lines() if "act" in line]

    def terms(self) -> tuple[Term, ...]:
        (terms,) = [line["terms"] for line in self.lines() if "terms" in line]
        return tuple(Term(start=start, end=end) for start, end in terms)

    def finish(self) -> None:
        self.popen.send_signal(signal.SIGCONT)
        self.popen.terminate()
        self.popen.wait(timeout=30)


@pytest.fixture
def candidate_namespace(admin: ApiClient) -> Iterator[str]:
    create_namespace(admin, CANDIDATE_NAMESPACE)
    yield CANDIDATE_NAMESPACE
    CoordinationV1Api(admin).delete_namespaced_lease(LEASE, CANDIDATE_NAMESPACE)


def test_a_frozen_leader_is_replaced_and_does_not_act_when_it_thaws(
    cluster: Cluster, admin: ApiClient, candidate_namespace: str, tmp_path: Path
) -> None:
    a = Process(cluster, "a", tmp_path / "a.jsonl")
    b: Process | None = None
    try:
        wait_until(lambda: bool(a.acts()), timeout=60)
        b = Process(cluster, "b", tmp_path / "b.jsonl")
        wait_until(
            lambda: holder(admin, candidate_namespace) == "controller-a" and b.out.exists(),
            timeout=60,
        )
        a.popen.send_signal(signal.SIGSTOP)
        wait_until(lambda: bool(b.acts()))
        a.popen.send_signal(signal.SIGCONT)
        acts_before_thaw = len(a.acts())
        time.sleep(2 * FAST.retry_period)  # give the thawed leader time to (wrongly) act
        thawed_acts = a.acts()[acts_before_thaw:]
    finally:
        a.finish()
        if b is not None:
            b.finish()

    assert b is not None
    a_terms, b_terms = a.terms(), b.terms()
    assert (len(a_terms), len(b_terms)) == (1, 1)
    assert overlapping(a_terms, b_terms) == []
    assert b_terms[0].start >= a_terms[0].end - FAST.renew_deadline + FAST.lease_duration
    assert thawed_acts == []
    assert [act for act in a.acts() if b_terms[0].start < act < b_terms[0].end] == []
    assert holder(admin, candidate_namespace) == "controller-b"
