"""People's commands (pause, resume, abort, promote) and a new version mid-rollout."""

from __future__ import annotations

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import Profile, at, simulate
from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy
from tfprod.runtime.controller import Command

ALICE = "tfprod cli (alice)"


def test_pause_holds_the_ramp_and_resume_goes_on_with_the_rest_of_the_hold() -> None:
    commands = {
        80.0: Command(kind="pause", by=ALICE),
        300.0: Command(kind="resume", by=ALICE),
    }

    run = simulate(canary_policy(), healthy(), until=2000, commands=commands)

    # Paused at 82 s, 20 s into the second step (started 62 s); resumed at 302 s, the step's
    # remaining 40 s run out at 342 s.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (82.0, "pause"),
        (302.0, "resume"),
        (342.0, "step"),
        (402.0, "promote"),
        (404.0, "promoted"),
    )
    assert run.final.rollout.decisions[3].reason == "paused by tfprod cli (alice)"
    assert run.events() == ["rollout_started", "step", "paused", "resumed", "step", "promoted"]


def test_a_pause_longer_than_the_no_data_bound_does_not_roll_back() -> None:
    commands = {
        80.0: Command(kind="pause", by=ALICE),
        1000.0: Command(kind="resume", by=ALICE),
    }

    run = simulate(canary_policy(), healthy(), until=3000, commands=commands)

    assert run.final.rollout.phase == "promoted"


def test_abort_moves_the_canary_to_the_fallback_and_ends_aborted() -> None:
    commands = {70.0: Command(kind="abort", by=ALICE)}

    run = simulate(canary_policy(), healthy(), until=2000, commands=commands)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (72.0, "abort"),
        (74.0, "aborted"),
    )
    assert run.final.rollout.decisions[3].reason == "aborted by tfprod cli (alice)"
    assert run.final.weights == {STABLE: 100.0, CANARY: 0.0}
    assert run.final.rollout.phase == "aborted"


def test_promote_takes_the_canary_to_100_percent_at_once() -> None:
    commands = {30.0: Command(kind="promote", by=ALICE)}

    run = simulate(canary_policy(), healthy(), until=2000, commands=commands)

    assert run.log() == ((0.0, "start"), (2.0, "progress"), (32.0, "promote"), (34.0, "promoted"))
    assert run.final.weights == {STABLE: 0.0, CANARY: 100.0}


def test_commands_that_do_not_apply_are_logged_as_ignored() -> None:
    commands = {500.0: Command(kind="resume", by=ALICE)}

    run = simulate(canary_policy(), healthy(), until=2000, commands=commands, stop_when_final=False)

    # Promoted at 184 s; checks every 10 s from there.
    assert run.log()[-1] == (504.0, "ignore")
    assert run.final.rollout.decisions[-1].reason == (
        "resume by tfprod cli (alice) ignored: the rollout is promoted"
    )


def test_a_new_version_mid_rollout_restarts_the_analysis_at_the_first_step() -> None:
    first = simulate(canary_policy(), healthy(), until=100, stop_when_final=False)
    assert first.final.rollout.step_index == 1
    newer = Policy.model_validate(
        minimal_policy(
            versions=[
                {"id": STABLE, "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
                {"id": "rec-v2.1.1", "artifact": "s3://models/rec/v2.1.1", "role": "canary"},
            ],
            traffic={"weights": {STABLE: 95, "rec-v2.1.1": 5}},
            canary={"version": "rec-v2.1.1", "steps": [[5, "1m"], [25, "1m"], [50, "1m"]]},
        )
    )
    platform = first.platform
    platform.profiles["rec-v2.1.1"] = Profile()

    run = simulate(newer, platform, until=1000, status=first.final)

    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (92.0, "restart"),
        (92.0, "start"),
        (94.0, "progress"),
        (154.0, "step"),
        (214.0, "step"),
        (274.0, "promote"),
        (276.0, "promoted"),
    )
    assert run.final.rollout.decisions[3].reason == (
        "new version rec-v2.1.1 replaces rec-v2.1.0: the analysis starts again"
    )
    restarted = run.ticks[0].decision.next_status.rollout
    assert restarted.started_at == at(92)
    assert restarted.step_index == 0
    assert {version: total.requests for version, total in restarted.totals.items()} == {
        STABLE: 0.0,
        CANARY: 0.0,
    }
    # The old canary's share went back to stable; the new one starts at its first step.
    assert run.routes()[0] == {STABLE: 95.0, "rec-v2.1.1": 5.0}
    assert run.final.weights == {STABLE: 0.0, "rec-v2.1.1": 100.0}
