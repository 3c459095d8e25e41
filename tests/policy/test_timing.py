from __future__ import annotations

from typing import Any

from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy, RollbackPath, rollback_timing

# W = 60 s window, I = 10 s interval, F = 3 failures, A = 5 s actuation, B = 300 s no-data bound.
SETTINGS = {
    "evaluation_window_seconds": 60,
    "check_interval_seconds": 10,
    "failure_threshold": 3,
    "actuation_bound_seconds": 5,
    "no_data_bound_seconds": 300,
}


def policy(**overrides: Any) -> Policy:
    return Policy.model_validate(minimal_policy(controller=SETTINGS, **overrides))


def test_stable_only_policy_has_nothing_to_roll_back() -> None:
    timing = rollback_timing(policy())

    assert timing.paths == ()
    assert timing.worst is None


def test_triggers_add_detection_plus_actuation_and_gradual_walks_the_ramp() -> None:
    timing = rollback_timing(
        policy(
            canary={
                "version": "rec-v2.1.0",
                "steps": [[5, "1m"], [25, "1m"], [50, "1m"]],
                "success_criteria": {"error_rate": "< 1%"},
                "check_interval_seconds": 20,
            },
            safety={
                "fallback_version": "rec-v2.0.0",
                "triggers": {
                    "error_rate > 5%": "immediate_rollback",
                    "latency_p95 > 200ms": "gradual_rollback",
                    "drift_score > 0.2": "alert_and_monitor",
                    "prediction_confidence < 50%": "pause",
                },
            },
        )
    )

    assert timing.paths == (
        # W + F * I_canary + A = 60 + 3 * 20 + 5
        RollbackPath(cause="canary criterion 'error_rate < 1%' fails", seconds=125),
        # W + F * I + A = 60 + 3 * 10 + 5
        RollbackPath(cause="trigger 'error_rate > 5%' (immediate_rollback)", seconds=95),
        # W + F * I + (n - 1) * I + A = 60 + 30 + 2 * 10 + 5: the first drop is at detection
        # (tests/controller/test_timing_measured.py measures the walk: exactly (n - 1) * I)
        RollbackPath(cause="trigger 'latency_p95 > 200ms' (gradual_rollback)", seconds=115),
        # W + I + B + A = 60 + 10 + 300 + 5: the window must empty before "no data" is seen
        # (was B + I + A = 315, which test_timing_measured.py shows is exceeded)
        RollbackPath(cause="no data during the rollout", seconds=375),
        # I + B + A = 10 + 300 + 5
        RollbackPath(cause="metrics unavailable during the rollout", seconds=315),
    )
    assert timing.worst == RollbackPath(cause="no data during the rollout", seconds=375)


def test_gradual_rollback_without_a_canary_is_one_step() -> None:
    timing = rollback_timing(
        policy(
            safety={
                "fallback_version": "rec-v2.0.0",
                "triggers": {"latency_p99 > 1s": "gradual_rollback"},
            }
        )
    )

    # W + F * I + A: one routing change to 0 (was W + F * I + I + A; the controller
    # takes no extra interval for a single step)
    assert timing.worst == RollbackPath(
        cause="trigger 'latency_p99 > 1s' (gradual_rollback)", seconds=60 + 30 + 5
    )
