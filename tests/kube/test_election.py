"""Lease leader election against the stand-in API server (tests/kube/fake_apiserver.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from kubernetes.client import ApiClient

from tests.kube.conftest import NAMESPACE
from tests.kube.fake_apiserver import FakeApiServer
from tfprod.runtime.kube import LeaseElector, LeaseTiming, Term

# The shortest durations the library accepts: whole seconds, retry >= 1, deadline > 1.2 x retry.
FAST = LeaseTiming(lease_duration=3, renew_deadline=2, retry_period=1)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` s (a hang guard, not a timing)."""
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
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
    a.stop()
    b.stop()

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
