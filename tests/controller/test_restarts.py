"""A controller killed at random points ends where an uninterrupted one does."""

from __future__ import annotations

import pytest

from tests.controller.policies import CANARY, canary_policy, healthy
from tests.controller.simulation import Fault, Profile, Run, simulate

STEPS = [[5, "1m"], [20, "1m"], [40, "1m"], [60, "1m"], [80, "1m"]]
POLICY = canary_policy(
    steps=STEPS,
    criteria={"error_rate": "< 1%", "latency_p95": "< 200ms"},
    triggers={"error_rate > 5%": "immediate_rollback"},
)


def steps_taken(run: Run) -> list[str]:
    return [record.reason for record in run.final.rollout.decisions if record.action == "step"]


def outcome(run: Run) -> tuple[object, ...]:
    rollout = run.final.rollout
    return (
        rollout.phase,
        run.final.weights,
        tuple(record.action for record in rollout.decisions),
        rollout.promoted_version,
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(50))
def test_a_killed_controller_ends_a_healthy_rollout_as_an_uninterrupted_one(seed: int) -> None:
    uninterrupted = simulate(POLICY, healthy(seed), until=3000)
    killed = simulate(POLICY, healthy(seed), until=3000, kill_probability=0.2, kill_seed=seed)

    assert killed.kills > 0
    assert outcome(killed) == outcome(uninterrupted)
    assert steps_taken(killed) == [
        "rec-v2.1.0 to 20% (step 2 of 5)",
        "rec-v2.1.0 to 40% (step 3 of 5)",
        "rec-v2.1.0 to 60% (step 4 of 5)",
        "rec-v2.1.0 to 80% (step 5 of 5)",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_a_killed_controller_rolls_back_a_failing_canary_as_an_uninterrupted_one(
    seed: int,
) -> None:
    fault = Fault(version=CANARY, onset=100 + 7 * seed, profile=Profile(error_rate=0.2))
    uninterrupted = simulate(POLICY, healthy(seed, fault), until=3000)
    killed = simulate(
        POLICY, healthy(seed, fault), until=3000, kill_probability=0.2, kill_seed=seed
    )

    assert killed.kills > 0
    assert (killed.final.rollout.phase, killed.final.weights) == (
        uninterrupted.final.rollout.phase,
        uninterrupted.final.weights,
    )
    assert killed.final.rollout.phase == "rolled_back"
    taken = steps_taken(killed)
    # No step skipped or repeated: a prefix of the ramp, in order.
    assert taken == [
        f"rec-v2.1.0 to {percent}% (step {index + 2} of 5)"
        for index, percent in enumerate((20, 40, 60, 80)[: len(taken)])
    ]
