"""decide is a function of its inputs: same inputs, same decision; inputs left as they were."""

from __future__ import annotations

import copy

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import at, simulate
from tfprod.runtime.controller import decide


def test_the_same_inputs_give_the_same_decision_and_are_not_changed() -> None:
    policy = canary_policy(
        criteria={"error_rate": "< 1%"}, triggers={"error_rate > 5%": "immediate_rollback"}
    )
    run = simulate(policy, healthy(), until=90, stop_when_final=False)
    status = run.final
    observation = run.platform.observe()
    kept = (copy.deepcopy(status), copy.deepcopy(observation))

    first = decide(policy, status, observation, at(100))
    second = decide(policy, status, observation, at(100))

    assert first == second
    assert (status, observation) == kept
    assert first.next_status.generation == status.generation + 1
    assert first.next_status.weights == {STABLE: 75.0, CANARY: 25.0}


def test_without_a_rollout_or_a_safety_net_nothing_changes() -> None:
    policy = canary_policy()
    document = policy.model_dump(mode="json")
    del document["canary"]
    document["traffic"] = {"weights": {STABLE: 100}}
    plain = type(policy).model_validate(document)
    run = simulate(plain, healthy(), until=100, stop_when_final=False)

    assert run.final.generation == 1
    assert run.final.rollout.phase is None
    assert run.routes() == []
    assert {tick.decision.requeue_after for tick in run.ticks} == {10.0}
