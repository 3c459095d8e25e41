"""Rollbacks: triggers, failed criteria, no data, a blind controller, and the commit."""

from __future__ import annotations

from datetime import timedelta

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import Fault, Profile, at, simulate
from tfprod.policy import DeploymentStatus
from tfprod.policy.rollout_state import RollbackState, RolloutState
from tfprod.runtime.controller import Notify, Observation, RouteChange, decide

FAILING = Profile(error_rate=0.10)


def test_rolls_back_when_canary_error_rate_exceeds_5_percent() -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    platform = healthy(1, Fault(version=CANARY, onset=70, profile=FAILING))

    run = simulate(policy, platform, until=1000)

    # The trigger looks every second; the canary at 25% of 200 rps shows its 10% errors past
    # 5% after about 530 requests since the onset (70 s): at 82 s.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (82.0, "rollback"),
        (84.0, "rolled_back"),
    )
    assert run.final.weights == {STABLE: 100.0, CANARY: 0.0}
    assert run.final.rollout.decisions[3].reason == (
        "error_rate > 5% on rec-v2.1.0 (immediate_rollback): 59 of the last 589 requests failed:"
        " error_rate > 5% shown (evidence 12.2 >= 11)"
    )
    # One routing change, first; the notification after it.
    rollback_tick = next(tick for tick in run.ticks if tick.t == 82.0)
    assert [type(action) for action in rollback_tick.actions] == [RouteChange, Notify]
    first = rollback_tick.actions[0]
    assert isinstance(first, RouteChange)
    assert first.weights == {STABLE: 100.0, CANARY: 0.0}
    assert run.events() == ["rollout_started", "step", "rollback_started", "rollback_finished"]
    # Every replica served the rollback 1.3 s after it was written.
    assert run.platform.zero_since == {CANARY: 83.3}


def test_rolls_back_when_a_canary_criterion_fails_three_checks_in_a_row() -> None:
    policy = canary_policy(criteria={"error_rate": "< 1%"})
    platform = healthy(1, Fault(version=CANARY, onset=70, profile=FAILING))

    run = simulate(policy, platform, until=1000)

    assert run.log()[-2:] == ((92.0, "rollback"), (94.0, "rolled_back"))
    assert run.final.rollout.decisions[-2].reason.startswith(
        "canary criterion error_rate < 1% failed 3 checks in a row: error_rate "
    )
    assert run.final.weights == {STABLE: 100.0, CANARY: 0.0}


def test_a_trigger_on_stable_moves_its_traffic_and_the_canary_to_the_fallback() -> None:
    policy = canary_policy(
        versions=[
            {"id": STABLE, "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
            {"id": CANARY, "artifact": "s3://models/rec/v2.1.0", "role": "canary"},
            {"id": "rec-v1.9.0", "artifact": "s3://models/rec/v1.9.0", "role": "fallback"},
        ],
        safety={
            "fallback_version": "rec-v1.9.0",
            "triggers": {"error_rate > 5%": "immediate_rollback"},
        },
    )
    platform = healthy(1, Fault(version=STABLE, onset=70, profile=FAILING))
    platform.profiles["rec-v1.9.0"] = Profile()

    run = simulate(policy, platform, until=1000)

    assert run.final.rollout.phase == "rolled_back"
    assert run.final.weights == {STABLE: 0.0, CANARY: 0.0, "rec-v1.9.0": 100.0}
    assert run.final.rollout.rollback is not None
    assert run.final.rollout.rollback.versions == (STABLE, CANARY)


def test_gradual_rollback_walks_down_the_steps_one_interval_apart() -> None:
    policy = canary_policy(triggers={"latency_p95 > 200ms": "gradual_rollback"})
    platform = healthy(1, Fault(version=CANARY, onset=130, profile=Profile(latency_median=0.2)))

    run = simulate(policy, platform, until=1000)

    walk = [
        (tick.t, action.weights[CANARY])
        for tick in run.ticks
        for action in tick.actions
        if isinstance(action, RouteChange)
    ]
    # Up 5 -> 25 -> 50; the slowdown at 130 s is shown at the next look (half the canary's
    # requests over 200ms), then down 25, 5, 0, ten seconds apart.
    assert walk == [(62.0, 25.0), (122.0, 50.0), (131.0, 25.0), (141.0, 5.0), (151.0, 0.0)]
    assert run.log()[-2:] == ((131.0, "rollback"), (153.0, "rolled_back"))


def test_no_data_holds_the_ramp_then_rolls_back_past_the_bound() -> None:
    platform = healthy(1, Fault(version=CANARY, onset=70, hidden=True))

    run = simulate(canary_policy(), platform, until=2000)

    # The canary's counters vanish at 70 s; its last counted requests (to the check at 62 s)
    # have left the 60 s window at the check at 122 s: "no data" from there; 300 s later the
    # bound has run out.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (422.0, "rollback"),
        (424.0, "rolled_back"),
    )
    assert run.final.rollout.decisions[3].reason == (
        "data inconclusive for 300 s: no data: rec-v2.1.0 has 0 requests in the last 60 s,"
        " needs 100"
    )
    assert run.events() == [
        "rollout_started",
        "step",
        "no_data",
        "rollback_started",
        "rollback_finished",
    ]


def test_prometheus_unreachable_holds_and_never_promotes() -> None:
    platform = healthy(1, Fault(version=CANARY, onset=70, source_down=True))

    run = simulate(canary_policy(), platform, until=2000)

    assert "promoting" not in run.phases
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (372.0, "rollback"),
        (374.0, "rolled_back"),
    )
    assert run.final.rollout.decisions[3].reason == (
        "data in error for 300 s: metric source prometheus failed: connection refused"
        " (127.0.0.1:9090)"
    )


def test_a_short_metrics_outage_holds_the_ramp_then_it_goes_on() -> None:
    platform = healthy(1, Fault(version=CANARY, onset=70, end=150, source_down=True))

    run = simulate(canary_policy(), platform, until=2000)

    # Uninterrupted, the second step is at 122 s. The outage (70 s to 150 s) leaves no totals
    # in the window: the check at 152 s has an empty window (no data), the one at 162 s has
    # 10 s of traffic and passes.
    assert run.log() == (
        (0.0, "start"),
        (2.0, "progress"),
        (62.0, "step"),
        (162.0, "step"),
        (222.0, "promote"),
        (224.0, "promoted"),
    )


def test_a_counter_reset_is_an_error_for_one_check_and_totals_never_go_down() -> None:
    platform = healthy(1, Fault(version=CANARY, onset=95, reset=True))

    run = simulate(canary_policy(), platform, until=2000)

    outcomes = [
        (tick.t, check.outcome)
        for tick in run.ticks
        for check in tick.decision.next_status.rollout.checks
        if check.name == "data"
    ]
    assert [t for t, outcome in outcomes if outcome == "error"] == [102.0]
    requests = [
        tick.decision.next_status.rollout.totals.get(CANARY)
        for tick in run.ticks
        if tick.decision.next_status.rollout.totals.get(CANARY) is not None
    ]
    counts = [total.requests for total in requests if total is not None]
    assert counts == sorted(counts)
    assert run.final.rollout.phase == "promoted"


def _rolling_back(generation: int) -> DeploymentStatus:
    rollback = RollbackState(
        cause="error_rate > 5% on rec-v2.1.0 for 3 checks (immediate_rollback)",
        kind="immediate",
        versions=(CANARY,),
        fallback=STABLE,
        started_at=at(100),
        from_weights={STABLE: 75.0, CANARY: 25.0},
        schedule=(),
        step_at=at(100),
        generation=generation,
    )
    return DeploymentStatus(
        deployment="recommender",
        generation=generation,
        weights={STABLE: 100.0, CANARY: 0.0},
        policy_digest="sha256:test",
        updated_at=at(100),
        writer="test",
        rollout=RolloutState(phase="rolling_back", subject=(CANARY,), rollback=rollback),
    )


def test_a_rollback_is_committed_only_when_every_replica_reports_its_generation() -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    status = _rolling_back(7)

    one_behind = decide(policy, status, Observation(replica_generations={"a": 7, "b": 6}), at(101))
    nobody = decide(policy, status, Observation(), at(101))
    everyone = decide(policy, status, Observation(replica_generations={"a": 7, "b": 8}), at(101))

    assert one_behind.next_status.rollout.phase == "rolling_back"
    assert one_behind.requeue_after == 1.0
    assert nobody.next_status.rollout.phase == "rolling_back"
    assert everyone.next_status.rollout.phase == "rolled_back"
    assert everyone.next_status.rollout.rollback is not None
    assert everyone.next_status.rollout.rollback.committed is True
    assert everyone.actions == (
        Notify(
            event="rollback_finished",
            severity="info",
            summary="rec-v2.1.0 at 0%, served by every replica (generation 7); cause:"
            " error_rate > 5% on rec-v2.1.0 for 3 checks (immediate_rollback)",
        ),
    )


def test_a_slow_replica_holds_the_commit_until_it_serves_the_rollback() -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    platform = healthy(
        1, Fault(version=CANARY, onset=70, profile=FAILING), adoption_delays=(0.4, 30.0)
    )

    run = simulate(policy, platform, until=2000)

    started, committed = run.first("rolling_back"), run.first("rolled_back")
    assert started is not None and committed is not None
    assert committed - started == 30.0
    assert timedelta(seconds=committed) == run.final.rollout.decisions[-1].at - at(0)


def test_a_crashed_canary_server_is_rolled_back_at_the_next_look() -> None:
    # With failures counted where they happen, a crashed canary shows as its own 5xx: every
    # request failing is shown past 5% by the first second of them.
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    platform = healthy(1, Fault(version=CANARY, onset=70, profile=Profile(error_rate=1.0)))

    run = simulate(policy, platform, until=1000)

    assert run.log()[-2:] == ((71.0, "rollback"), (73.0, "rolled_back"))
    assert round(run.platform.zero_since[CANARY] - 70, 6) == 2.3
