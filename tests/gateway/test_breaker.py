"""The circuit breaker's states, on a virtual clock."""

from __future__ import annotations

from tfprod.runtime.gateway.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    breaker = Breaker(threshold=3, open_seconds=10, clock=Clock())
    breaker.failure()
    breaker.failure()
    assert (breaker.state, breaker.allow()) == ("closed", True)
    breaker.failure()
    assert (breaker.state, breaker.allow()) == ("open", False)


def test_a_success_resets_the_failure_count() -> None:
    breaker = Breaker(threshold=2, open_seconds=10, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"


def test_half_open_lets_exactly_one_trial_through_and_closes_on_its_success() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, open_seconds=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.state == "half-open"
    assert [breaker.allow(), breaker.allow()] == [True, False]
    breaker.success()
    assert (breaker.state, breaker.allow()) == ("closed", True)


def test_a_failed_trial_reopens_for_another_full_period() -> None:
    clock = Clock()
    breaker = Breaker(threshold=5, open_seconds=10, clock=clock)
    for _ in range(5):
        breaker.failure()
    clock.now += 10
    assert breaker.allow()
    breaker.failure()
    clock.now += 9.9
    assert (breaker.state, breaker.allow()) == ("open", False)
    clock.now += 0.1
    assert breaker.allow()
