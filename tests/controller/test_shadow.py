"""Shadow tests: mirrored traffic only, so the controller changes no weight."""

from __future__ import annotations

from tests.controller.policies import STABLE
from tests.controller.simulation import Platform, Profile, simulate
from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy
from tfprod.runtime.controller import Command

SHADOW = "rec-v2.2.0"


def shadow_policy() -> Policy:
    return Policy.model_validate(
        minimal_policy(
            versions=[
                {"id": STABLE, "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
                {"id": SHADOW, "artifact": "s3://models/rec/v2.2.0", "role": "shadow"},
            ],
            traffic={"weights": {STABLE: 100}},
            shadow={"version": SHADOW, "duration_seconds": 600},
        )
    )


def test_a_shadow_test_finishes_after_its_duration_without_changing_weights() -> None:
    platform = Platform(seed=1, profiles={STABLE: Profile()})

    run = simulate(shadow_policy(), platform, until=2000)

    # Progressing once both replicas serve the status that records the rollout.
    assert run.log() == ((0.0, "start"), (2.0, "progress"), (602.0, "finish"))
    assert run.phases == ("initializing", "progressing", "promoted")
    assert run.routes() == []
    assert run.final.weights == {STABLE: 100.0}


def test_an_aborted_shadow_test_ends_aborted() -> None:
    platform = Platform(seed=1, profiles={STABLE: Profile()})
    commands = {100.0: Command(kind="abort", by="tfprod cli (alice)")}

    run = simulate(shadow_policy(), platform, until=2000, commands=commands)

    assert run.final.rollout.phase == "aborted"
    assert run.final.weights == {STABLE: 100.0}
