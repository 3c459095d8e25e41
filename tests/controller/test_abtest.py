"""A/B tests decided by the controller, alone and next to a canary ramp."""

from __future__ import annotations

from typing import Any

from tests.controller.policies import CANARY, STABLE
from tests.controller.simulation import Platform, Profile, simulate
from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy

CHALLENGER = "rec-v2.2.0"


def ab_policy(
    *, canary: dict[str, Any] | None = None, duration: int = 3600, treatment: float = 50
) -> Policy:
    versions = [
        {"id": STABLE, "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
        {"id": CHALLENGER, "artifact": "s3://models/rec/v2.2.0", "role": "challenger"},
    ]
    weights = {STABLE: 100.0 - treatment, CHALLENGER: treatment}
    if canary is not None:
        versions.append({"id": CANARY, "artifact": "s3://models/rec/v2.1.0", "role": "canary"})
        weights = {STABLE: 95.0 - treatment, CHALLENGER: treatment, CANARY: 5.0}
    document = minimal_policy(
        versions=versions,
        traffic={"weights": weights},
        ab_test={
            "control": STABLE,
            "treatment": CHALLENGER,
            "treatment_percent": treatment,
            "metrics": ["conversion_rate"],
            "min_sample_size": 1000,
            "duration_seconds": duration,
        },
    )
    if canary is not None:
        document["canary"] = canary
    return Policy.model_validate(document)


def test_ab_promotes_the_winner_when_significance_crosses() -> None:
    platform = Platform(
        seed=3, profiles={STABLE: Profile(), CHALLENGER: Profile(conversion_rate=0.06)}
    )

    run = simulate(ab_policy(), platform, until=5000)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (92.0, "ab_decided"),
        (92.0, "promote"),
        (94.0, "promoted"),
    )
    assert run.final.rollout.ab_result == (
        "conversion_rate: rec-v2.2.0 is better, difference +0.01173 (95% interval +0.001246 to"
        " +0.02195)"
    )
    assert run.final.rollout.promoted_version == CHALLENGER
    assert run.final.weights == {STABLE: 0.0, CHALLENGER: 100.0}
    assert run.events() == ["rollout_started", "ab_decided", "promoted"]


def test_ab_at_the_horizon_keeps_the_control_with_no_difference_detected() -> None:
    platform = Platform(seed=3, profiles={STABLE: Profile(), CHALLENGER: Profile()})

    run = simulate(ab_policy(), platform, until=5000)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (3602.0, "ab_decided"),
        (3602.0, "promote"),
        (3604.0, "promoted"),
    )
    assert run.final.rollout.ab_result == (
        "no difference detected in 3600 s; control rec-v2.0.0 stays: conversion_rate: no"
        " difference detected, difference +9.105e-05 (95% interval -0.001559 to +0.001468)"
    )
    assert run.final.rollout.promoted_version == STABLE
    assert run.final.rollout.decisions[-1].reason == (
        "rec-v2.0.0 stays, served by every replica (generation 364)"
    )
    assert run.final.weights == {STABLE: 100.0, CHALLENGER: 0.0}


def test_a_canary_ramp_next_to_an_ab_test_waits_for_it_and_shares_never_exceed_100() -> None:
    canary = {"version": CANARY, "steps": [[5, "1m"], [40, "1m"], [90, "1m"]]}
    platform = Platform(
        seed=5, profiles={STABLE: Profile(), CHALLENGER: Profile(), CANARY: Profile()}
    )

    run = simulate(ab_policy(canary=canary, duration=600, treatment=10), platform, until=5000)

    for weights in run.routes():
        assert abs(sum(weights.values()) - 100) < 1e-6
        assert min(weights.values()) >= 0
    # 40% fits beside the A/B test (stable keeps 50% >= the treatment's 10%); 90% would leave
    # stable nothing, so it waits for the A/B test to end (no difference at 600 s: the
    # treatment's share goes back to stable), then the ramp goes on and promotes.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (602.0, "ab_decided"),
        (602.0, "step"),
        (662.0, "promote"),
        (664.0, "promoted"),
    )
    # One routing change per check: at 602 s the A/B decision and the step together.
    assert run.routes() == [
        {STABLE: 50.0, CHALLENGER: 10.0, CANARY: 40.0},
        {STABLE: 10.0, CHALLENGER: 0.0, CANARY: 90.0},
        {STABLE: 0.0, CHALLENGER: 0.0, CANARY: 100.0},
    ]
    assert run.final.weights == {STABLE: 0.0, CHALLENGER: 0.0, CANARY: 100.0}
    assert run.final.rollout.ab_result.startswith("no difference detected in 600 s")


def test_ab_on_revenue_promotes_the_treatment_earning_more() -> None:
    document = ab_policy().model_dump(mode="json")
    document["ab_test"]["metrics"] = ["revenue_per_request"]
    platform = Platform(
        seed=4,
        profiles={
            STABLE: Profile(revenue_mean=1.0),
            CHALLENGER: Profile(revenue_mean=1.3),
        },
    )

    run = simulate(Policy.model_validate(document), platform, until=5000)

    assert run.final.rollout.phase == "promoted"
    assert run.final.rollout.promoted_version == CHALLENGER
    assert run.final.rollout.ab_result.startswith("revenue_per_request: rec-v2.2.0 is better")


def test_an_ab_metric_tfprod_does_not_observe_fails_the_rollout_at_its_start() -> None:
    document = ab_policy().model_dump(mode="json")
    document["ab_test"]["metrics"] = ["basket_size"]
    platform = Platform(seed=4, profiles={STABLE: Profile(), CHALLENGER: Profile()})

    run = simulate(Policy.model_validate(document), platform, until=5000)

    assert run.log() == ((0.0, "fail"),)
    assert run.final.rollout.phase == "failed"
    assert run.final.rollout.decisions[0].reason == (
        "A/B metric basket_size is not observed; observed: error_rate, click_rate,"
        " click_through_rate, ctr, conversion_rate, revenue, revenue_per_request"
    )
    assert run.final.weights == {STABLE: 50.0, CHALLENGER: 50.0}
