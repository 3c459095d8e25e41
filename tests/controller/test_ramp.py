"""Canary ramps: steps on schedule, promotion, and what holds them."""

from __future__ import annotations

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import Fault, Profile, simulate


def test_ramp_steps_on_schedule_and_promotes() -> None:
    policy = canary_policy(criteria={"error_rate": "< 1%", "latency_p95": "< 200ms"})

    run = simulate(policy, healthy(), until=1000)

    # Replicas take a status 0.4 s and 1.3 s after it is written; the controller polls every
    # second while it waits, then checks every 10 s: each 60 s step starts when served.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (122.0, "step"),
        (182.0, "promote"),
        (184.0, "promoted"),
    )
    assert run.phases == ("initializing", "progressing", "promoting", "promoted")
    assert run.final.weights == {STABLE: 0.0, CANARY: 100.0}
    assert run.final.rollout.promoted_version == CANARY
    assert run.routes() == [
        {STABLE: 75.0, CANARY: 25.0},
        {STABLE: 50.0, CANARY: 50.0},
        {STABLE: 0.0, CANARY: 100.0},
    ]
    assert run.events() == ["rollout_started", "step", "step", "promoted"]


def test_a_step_waits_for_a_failing_criterion_to_pass() -> None:
    policy = canary_policy(criteria={"latency_p95": "< 200ms"})
    # Both versions slow from 30 s to 150 s: the canary breaks its criterion but is not worse
    # than stable, so the checks are inconclusive: the ramp holds until the slow requests
    # have left the 60 s window (210 s), and goes on at the next check.
    slow = Profile(latency_median=0.15)
    platform = healthy(
        1,
        Fault(version=STABLE, onset=30, end=150, profile=slow),
        Fault(version=CANARY, onset=30, end=150, profile=slow),
    )

    run = simulate(policy, platform, until=1000)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (212.0, "step"),
        (272.0, "step"),
        (332.0, "promote"),
        (334.0, "promoted"),
    )
