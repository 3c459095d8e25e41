"""`rollback_timing`'s worst cases hold for what the controller does, measured in virtual time.

Each rollback path is driven through `decide` with faults starting at many onsets; the time
from the onset to every replica serving the faulty version at 0% must stay under the path's
computed figure. A rate trigger is measured both where its sequential test shows the fault
and where only the window's backstop does. The no-data path also shows the old figure
(no-data bound + interval + actuation, 315 s) was exceeded.
"""

from __future__ import annotations

import pytest

from tests.controller.policies import CANARY, canary_policy, healthy
from tests.controller.simulation import Fault, Profile, simulate
from tfprod.policy import Policy, RollbackPath, rollback_timing

STEPS = [[5, "2m"], [20, "2m"], [40, "2m"], [60, "2m"], [80, "2m"]]
ONSETS = [150.0 + 13.7 * k for k in range(12)]


def measured(policy: Policy, faults: list[Fault]) -> list[float]:
    """Seconds from each fault's onset to every replica serving the canary at 0%."""
    seconds = []
    for seed, fault in enumerate(faults):
        run = simulate(policy, healthy(seed, fault), until=5000)
        assert run.final.rollout.phase == "rolled_back", run.log()
        seconds.append(run.platform.zero_since[CANARY] - fault.onset)
    return seconds


def path(policy: Policy, cause: str) -> RollbackPath:
    return next(path for path in rollback_timing(policy).paths if path.cause == cause)


@pytest.mark.slow
def test_an_immediate_rollback_trigger_stays_under_its_computed_worst_case() -> None:
    policy = canary_policy(steps=STEPS, triggers={"error_rate > 5%": "immediate_rollback"})
    faults = [Fault(version=CANARY, onset=t, profile=Profile(error_rate=0.08)) for t in ONSETS]

    worst = max(measured(policy, faults))

    assert path(policy, "trigger 'error_rate > 5%' (immediate_rollback)").seconds == 95
    assert 0 < worst <= 95


@pytest.mark.slow
def test_a_fault_too_small_to_show_in_a_window_is_caught_by_the_backstop_in_time() -> None:
    # At 40 rps the canary at 20% sees 480 requests a window: too few to show 8% against 5%
    # within one window most of the time, so the window's rate acts after 30 failing looks.
    policy = canary_policy(steps=STEPS, triggers={"error_rate > 5%": "immediate_rollback"})
    seconds, causes = [], set()
    for seed, onset in enumerate(ONSETS):
        fault = Fault(version=CANARY, onset=onset, profile=Profile(error_rate=0.08))
        run = simulate(policy, healthy(seed, fault, rps=40), until=5000)
        assert run.final.rollout.rollback is not None, run.log()
        causes.add(run.final.rollout.rollback.cause.split(" (")[0])
        seconds.append(run.platform.zero_since[CANARY] - onset)

    assert causes == {"error_rate > 5% on rec-v2.1.0", "error_rate > 5% on rec-v2.1.0 for 30 looks"}
    assert 0 < max(seconds) <= 95


@pytest.mark.slow
def test_aggressive_settings_stay_under_their_computed_worst_case() -> None:
    policy = canary_policy(
        steps=STEPS,
        triggers={"error_rate > 5%": "immediate_rollback"},
        controller={
            "check_interval_seconds": 1,
            "evaluation_window_seconds": 4,
            "failure_threshold": 1,
            "min_samples": 20,
            "actuation_bound_seconds": 2,
        },
    )
    faults = [Fault(version=CANARY, onset=t, profile=Profile(error_rate=0.10)) for t in ONSETS]

    worst = max(measured(policy, faults))

    assert path(policy, "trigger 'error_rate > 5%' (immediate_rollback)").seconds == 7
    assert 0 < worst <= 7


@pytest.mark.slow
def test_a_failed_canary_criterion_stays_under_its_computed_worst_case() -> None:
    policy = canary_policy(steps=STEPS, criteria={"error_rate": "< 1%"})
    faults = [Fault(version=CANARY, onset=t, profile=Profile(error_rate=0.03)) for t in ONSETS]

    worst = max(measured(policy, faults))

    assert path(policy, "canary criterion 'error_rate < 1%' fails").seconds == 95
    assert 0 < worst <= 95


@pytest.mark.slow
def test_a_gradual_rollback_from_the_top_step_walks_n_minus_1_intervals() -> None:
    policy = canary_policy(steps=STEPS, triggers={"latency_p95 > 200ms": "gradual_rollback"})
    top = 2 + 4 * 120  # the last step starts when served
    slow = Profile(latency_median=0.25)
    faults = [Fault(version=CANARY, onset=top + 5 + 3.1 * k, profile=slow) for k in range(8)]

    seconds = measured(policy, faults)
    for seed, fault in enumerate(faults):
        run = simulate(policy, healthy(seed, fault), until=5000)
        rollback = run.first("rolling_back")
        assert rollback is not None
        # The walk: 80% -> 60, 40, 20, 5 at once and each interval after, then 0: 4 intervals.
        assert round(run.platform.zero_since[CANARY] - rollback, 6) == 4 * 10 + 1.3

    assert path(policy, "trigger 'latency_p95 > 200ms' (gradual_rollback)").seconds == 135
    assert 0 < max(seconds) <= 135


@pytest.mark.slow
def test_no_data_stays_under_its_computed_worst_case_and_over_the_old_figure() -> None:
    policy = canary_policy(steps=STEPS)
    faults = [Fault(version=CANARY, onset=t, hidden=True) for t in ONSETS]

    worst = max(measured(policy, faults))

    assert path(policy, "no data during the rollout").seconds == 375
    assert 315 < worst <= 375


@pytest.mark.slow
def test_metrics_unavailable_stays_under_its_computed_worst_case() -> None:
    policy = canary_policy(steps=STEPS)
    faults = [Fault(version=CANARY, onset=t, source_down=True) for t in ONSETS]

    worst = max(measured(policy, faults))

    assert path(policy, "metrics unavailable during the rollout").seconds == 315
    assert 300 < worst <= 315
