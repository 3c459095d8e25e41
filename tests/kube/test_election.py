"""Lease leader election against the stand-in API server (tests/kube/fake_apiserver.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.kube.candidate import FAST
from tests.kube.conftest import NAMESPACE
from tests.kube.fake_apiserver import FakeApiServer
from tfprod.runtime.kube import LeaseElector, LeaseTiming, Term

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` s (a hang guard, not a timing)."""
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= give_up:
            pytest.fail("condition not met in time")
        time.sleep(0.02)


class Candidate:
    """An elector plus an actor thread that acts (records the time) only while it leads."""

    def __init__(self, elector: LeaseElector) -> None:
        self.elector = elector
        self.acts: list[float] = []
        self.events: list[tuple[str, bool]] = []
        self._done = threading.Event()
        self._actor = threading.Thread(target=self._act, daemon=True)

    def _act(self) -> None:
        while not self._done.is_set():
            now = time.monotonic()
            if self.elector.is_leader():
                self.acts.append(now)
            time.sleep(0.01)

    def start(self) -> None:
        self.elector.start()
        self._actor.start()

    def stop(self, *, release: bool = True) -> None:
        self._done.set()
        self._actor.join()
        self.elector.stop(release=release)


@pytest.fixture
def candidates(
    client_for: Callable[[str], ApiClient],
) -> Iterator[Callable[[str], Candidate]]:
    made: list[Candidate] = []

    def make(name: str) -> Candidate:
        candidate: Candidate

        def started() -> None:
            candidate.events.append(("started", candidate.elector.is_leader()))

        def stopped() -> None:
            candidate.events.append(("stopped", candidate.elector.is_leader()))

        elector = LeaseElector(
            client_for(name),
            namespace=NAMESPACE,
            name="tfprod-controller",
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


def holder(apiserver: FakeApiServer) -> str | None:
    lease = apiserver.get("leases", NAMESPACE, "tfprod-controller")
    assert lease is not None
    identity: str | None = lease["spec"].get("holderIdentity")
    return identity


def overlapping(first: tuple[Term, ...], second: tuple[Term, ...]) -> list[tuple[Term, Term]]:
    return [(a, b) for a in first for b in second if a.start < b.end and b.start < a.end]


@pytest.mark.parametrize(
    ("durations", "message"),
    [
        (
            {"lease_duration": 3.5},
            "lease_duration must be a whole number of seconds >= 1, got 3.5",
        ),
        ({"retry_period": 0}, "retry_period must be a whole number of seconds >= 1, got 0"),
        (
            {"renew_deadline": 2, "retry_period": 2},
            "renew_deadline must exceed 1.2 x retry_period (2), got 2",
        ),
        (
            {"lease_duration": 10, "renew_deadline": 10},
            "lease_duration must exceed renew_deadline (10), got 10",
        ),
    ],
)
def test_timing_refuses_durations_the_lease_cannot_keep(
    durations: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        LeaseTiming(**durations)  # type: ignore[arg-type]

    assert str(raised.value) == message


def test_racing_candidates_create_the_lease_once_and_one_leads(
    apiserver: FakeApiServer, candidates: Callable[[str], Candidate]
) -> None:
    racers = [candidates(name) for name in "abc"]
    for racer in racers:
        racer.start()

    wait_until(lambda: any(racer.elector.is_leader() for racer in racers))

    leaders = [racer for racer in racers if racer.elector.is_leader()]
    assert len(leaders) == 1
    assert holder(apiserver) == leaders[0].elector.identity
    assert apiserver.counts["POST leases"] - apiserver.counts["AlreadyExists"] == 1


def test_callbacks_run_after_is_leader_has_turned(
    apiserver: FakeApiServer, candidates: Callable[[str], Candidate]
) -> None:
    alone = candidates("a")
    alone.start()
    wait_until(alone.elector.is_leader)

    alone.stop()

    assert alone.events == [("started", True), ("stopped", False)]


def test_a_stopped_leader_hands_the_lease_back(
    apiserver: FakeApiServer, candidates: Callable[[str], Candidate]
) -> None:
    first, second = candidates("a"), candidates("b")
    first.start()
    wait_until(first.elector.is_leader)
    second.start()

    first.stop()

    assert holder(apiserver) in (None, "controller-b")
    wait_until(second.elector.is_leader)
    assert holder(apiserver) == "controller-b"
    assert overlapping(first.elector.terms, second.elector.terms) == []


@pytest.mark.slow
def test_two_controllers_racing_for_the_lease_never_both_act(
    apiserver: FakeApiServer, candidates: Callable[[str], Candidate]
) -> None:
    a, b = candidates("a"), candidates("b")
    a.start()
    wait_until(a.elector.is_leader)
    b.start()
    # Cut the leader off from the API server twice: it stops renewing, and the rival takes over.
    for leader, rival in ((a, b), (b, a)):
        apiserver.partition(f"token-{leader.elector.identity[-1]}")
        wait_until(rival.elector.is_leader)
        assert not leader.elector.is_leader()
        apiserver.heal(f"token-{leader.elector.identity[-1]}")
    b.stop()  # the follower first: the leader's release must not start a third term
    a.stop()

    a_terms, b_terms = a.elector.terms, b.elector.terms
    assert (len(a_terms), len(b_terms)) == (2, 1)
    assert overlapping(a_terms, b_terms) == []
    assert a.acts and b.acts
    assert [act for act in a.acts if any(t.start < act < t.end for t in b_terms)] == []
    assert [act for act in b.acts if any(t.start < act < t.end for t in a_terms)] == []
    # A rival waits the whole lease duration after the last renewal it could have seen: the
    # cut-off leader's last renewal was sent `renew_deadline` before its belief ended.
    for lost, won in ((a_terms[0], b_terms[0]), (b_terms[0], a_terms[1])):
        assert won.start >= lost.end - FAST.renew_deadline + FAST.lease_duration
    assert a.events == [("started", True), ("stopped", False)] * 2
    assert b.events == [("started", True), ("stopped", False)]


class Process:
    """A candidate process (tests/kube/candidate.py) and what it logged."""

    def __init__(self, apiserver: FakeApiServer, name: str, out: Path) -> None:
        self.out = out
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.kube.candidate",
                apiserver.url,
                f"token-{name}",
                f"controller-{name}",
                str(out),
            ],
            cwd=ROOT,
        )

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
        """Stop it as a pod is stopped; killed if it has not ended in a minute (a loaded
        machine), so no process outlives the test whatever it asserts next."""
        self.popen.send_signal(signal.SIGCONT)
        self.popen.terminate()
        try:
            self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@pytest.mark.slow
def test_a_frozen_leader_is_replaced_and_does_not_act_when_it_thaws(
    apiserver: FakeApiServer, tmp_path: Path
) -> None:
    a = Process(apiserver, "a", tmp_path / "a.jsonl")
    b: Process | None = None
    try:
        wait_until(lambda: bool(a.acts()), timeout=60)
        b = Process(apiserver, "b", tmp_path / "b.jsonl")
        wait_until(lambda: holder(apiserver) == "controller-a" and b.out.exists(), timeout=60)
        a.popen.send_signal(signal.SIGSTOP)  # frozen: no renewal, no action, no clock check
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
    assert holder(apiserver) == "controller-b"
