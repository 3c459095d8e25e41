"""Safety triggers: sequential rate triggers, and business triggers from the feedback counters."""

from __future__ import annotations

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import Fault, Platform, Profile, simulate
from tfprod.runtime.controller import Notify


def test_a_conversion_rate_trigger_rolls_back_after_three_failing_window_checks() -> None:
    policy = canary_policy(triggers={"conversion_rate < 2%": "immediate_rollback"})
    fault = Fault(version=CANARY, onset=70, profile=Profile(conversion_rate=0.005))

    run = simulate(policy, healthy(1, fault), until=1000)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (122.0, "rollback"),
        (124.0, "rolled_back"),
    )
    assert run.final.rollout.decisions[3].reason == (
        "conversion_rate < 2% on rec-v2.1.0 for 3 checks (immediate_rollback): conversion_rate"
        " 0.982% in the last 60 s: conversion_rate < 2%"
    )


def test_a_revenue_trigger_alerts_once_and_the_ramp_goes_on() -> None:
    policy = canary_policy(triggers={"revenue_per_request < 0.5": "alert_and_monitor"})
    paying = Profile(revenue_mean=1.0)
    fault = Fault(version=CANARY, onset=70, profile=Profile(revenue_mean=0.1))
    platform = Platform(seed=1, profiles={STABLE: paying, CANARY: paying}, faults=(fault,))

    run = simulate(policy, platform, until=1000)

    assert run.events() == ["rollout_started", "step", "alert", "step", "promoted"]
    (alert,) = [
        (tick.t, action.summary)
        for tick in run.ticks
        for action in tick.actions
        if isinstance(action, Notify) and action.event == "alert"
    ]
    assert alert == (
        112.0,
        "revenue_per_request < 0.5 on rec-v2.1.0 for 3 checks (alert_and_monitor):"
        " revenue_per_request 0.2728 in the last 60 s: revenue_per_request < 0.5",
    )


def test_a_canary_at_3_percent_errors_is_never_shown_past_a_5_percent_trigger() -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    fault = Fault(version=CANARY, onset=70, profile=Profile(error_rate=0.03))

    run = simulate(policy, healthy(1, fault), until=1000)

    assert run.final.rollout.phase == "promoted"
    assert "rollback" not in [action for _, action in run.log()]


def test_a_sequential_trigger_keeps_the_totals_of_its_last_window_of_looks() -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})

    run = simulate(policy, healthy(1), until=1000)

    # Looks every second over a 60 s window: at most 60 starts are kept.
    kept = [
        len(check.analysis["starts"])
        for tick in run.ticks
        for check in tick.decision.next_status.rollout.checks
        if check.name.startswith("trigger ") and check.analysis is not None
    ]
    assert max(kept) == 60
    assert kept[:3] == [1, 2, 3]
