"""The controller's decision: `decide(policy, status, observation, now) -> Decision`.

Pure: no clock, no I/O, no logging; every input is an argument and everything a restarted
controller needs is in the returned status (`RolloutState`). The loop around it observes once,
calls `decide`, writes `next_status` if it changed, then takes the actions in order (a route
change first, notifications after) and looks again after `requeue_after` seconds.

One tick:

1. A rollout starts when the versions under test (`subject`: the canary, the A/B treatment,
   the shadow) differ from the state's: a new version arriving mid-rollout restarts the
   analysis from nothing, at the first ramp step.
2. Counters become totals since the analysis started (`totals`), rebased on counter resets,
   and the evaluation window's totals (`trailing`).
3. People's commands (pause, resume, abort, promote) apply.
4. Triggers are evaluated on every version taking traffic except the fallback, in every
   phase but initializing and rolling back. A trigger on a rate (error_rate, a latency
   quantile) looks every `_trigger_interval` (1 s) and acts at once when its sequential test
   shows the rate past the threshold, or when its evaluation window has failed at every look
   for `failure_threshold` check intervals; any other trigger looks every check interval and
   acts after `failure_threshold` failing checks in a row. Each acts once per run of failures.
5. While progressing, the gates (`checks`) run and decide: rollback, A/B decision, a ramp step
   or promotion.

Decided here, where the Policy leaves it open:

- A canary ramp and an A/B test on one deployment run side by side; stable (the A/B control)
  gives both their shares, so shares never exceed 100 percent (a step asking for more than
  stable has is capped at what there is). A canary step that would leave the control less
  traffic than the treatment has waits until the A/B test is decided (at most its
  `duration_seconds`), so the test keeps its balance; automatic promotion (100%) therefore
  comes after the A/B test. The A/B test decides on its own clock; if it promotes its
  treatment, the treatment takes stable's share and gives the canary's later steps. A manual
  promote of the canary stops a running A/B test undecided ("stopped undecided: <canary>
  promoted"), its treatment's share going to the canary. When the A/B treatment is the
  canary itself, the ramp sets its share, a treatment win promotes it and a control win
  rolls it back.
- An A/B test that ends with the control (harm shown, or no difference at `duration_seconds`)
  moves the treatment's share back to the control and ends `promoted` with the control as
  `promoted_version`: nothing failed, the result says which and why.
- Triggers watch every version taking traffic but the fallback. A met rollback trigger ends
  the rollout: the failing version's share and the shares of the versions under test move to
  the fallback (`safety.fallback_version`, or stable without a safety net). A canary criterion
  that fails, a gate without data or in error past `no_data_bound_seconds`, and an abort do the
  same with the versions under test.
- gradual_rollback: the moved shares first drop to what they were at the canary step below the
  current one, then one step lower each check interval, then to 0 (at once without a ramp, or
  from the first step), as `tfprod.policy.timing` counts it.
- A rollback is committed, and the phase leaves rolling back, only when every gateway replica
  reports serving the status generation that carries its last change; until then the
  controller looks every `COMMIT_POLL_SECONDS`. Initializing and promoting wait the same way.
- Pause holds the ramp (its hold time does not run while paused) but not the A/B test's clock;
  triggers still act while paused. The no-data bound does not run while paused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from tfprod.policy import Condition, DeploymentStatus, Policy, Trigger
from tfprod.policy.rollout_state import (
    FINAL_PHASES,
    MAX_DECISIONS,
    CheckState,
    DecisionRecord,
    Phase,
    RollbackKind,
    RollbackState,
    RolloutState,
    Totals,
)
from tfprod.policy.safety import TRIGGER_INTERVAL_SECONDS
from tfprod.runtime.analysis import Outcome
from tfprod.runtime.controller.actions import Action, Decision, Event, Notify, RouteChange, Severity
from tfprod.runtime.controller.checks import (
    AB_METRICS,
    Found,
    ab_check,
    advance,
    blind,
    criterion_check,
    data_check,
    start_ab,
    trigger_check,
    unobserved_ab_metrics,
)
from tfprod.runtime.controller.observation import Command, Observation
from tfprod.runtime.controller.totals import ingest, trailing
from tfprod.runtime.controller.weights import declared_only, moved, with_share

COMMIT_POLL_SECONDS = 1.0
"""How often the controller looks while a routing change is not yet served by every replica."""
DATA_CHECK = "data"
AB_CHECK = "ab_test"
_AWAITING: tuple[Phase, ...] = ("initializing", "promoting", "rolling_back")


def decide(
    policy: Policy, status: DeploymentStatus, observation: Observation, now: datetime
) -> Decision:
    """The next status, the actions to take, and when to look again (see the module doc)."""
    return _Tick(policy, status, observation, now).run()


def subject(policy: Policy) -> tuple[str, ...]:
    """The versions a policy's rollout tests: canary, A/B treatment, shadow, in that order."""
    versions = []
    if policy.canary is not None:
        versions.append(policy.canary.version)
    if policy.ab_test is not None and policy.ab_test.treatment not in versions:
        versions.append(policy.ab_test.treatment)
    if policy.shadow is not None:
        versions.append(policy.shadow.version)
    return tuple(versions)


def check_interval(policy: Policy) -> float:
    """Seconds between two checks: the controller's, or the canary's own if shorter."""
    interval = policy.controller.check_interval_seconds
    if policy.canary is not None and policy.canary.check_interval_seconds is not None:
        return min(interval, policy.canary.check_interval_seconds)
    return interval


def _trigger_interval(policy: Policy) -> float:
    """Seconds between two looks of the safety triggers: `TRIGGER_INTERVAL_SECONDS`, or the
    controller's check interval if shorter."""
    return min(TRIGGER_INTERVAL_SECONDS, policy.controller.check_interval_seconds)


class _Tick:
    """One call of `decide`: mutable only while it computes, from its inputs alone."""

    def __init__(
        self, policy: Policy, status: DeploymentStatus, observation: Observation, now: datetime
    ) -> None:
        self.policy = policy
        self.settings = policy.controller
        self.status = status
        self.observation = observation
        self.now = now
        self.state = status.rollout
        self.weights = dict(status.weights)
        self.route_reasons: list[str] = []
        self.notes: list[Notify] = []
        self.records: list[DecisionRecord] = []
        self.blind_reason = ""
        self.window: dict[str, Totals] = {}
        self.checks: dict[str, CheckState] = {check.name: check for check in self.state.checks}
        self.fresh: list[str] = []
        """Names of the checks looked at this tick (evaluated or not yet due), in order."""
        self.due: list[datetime] = []
        """When each check looked at is due next: the next tick is the earliest."""

    # The tick

    def run(self) -> Decision:
        wanted = subject(self.policy)
        if wanted and wanted != self.state.subject:
            self._start(wanted)
        if self.state.phase is None and self.policy.safety is None:
            return self._decision()
        self._observe()
        for command in self.observation.commands:
            self._command(command)
        if self.state.phase in ("initializing", "promoting"):
            self._await_routing()
        if self.state.phase == "rolling_back":
            self._walk()
        elif self.state.phase != "initializing":
            # Not while the first weights are being served (at most the actuation bound), so
            # triggers and gates start together and share one cadence.
            self._triggers()
        if self.state.phase == "progressing":
            self._gates()
        return self._decision()

    def _start(self, wanted: tuple[str, ...]) -> None:
        before = self.state
        if before.subject and before.phase not in FINAL_PHASES:
            self._record(
                "restart",
                f"new version {', '.join(wanted)} replaces {', '.join(before.subject)}:"
                " the analysis starts again",
            )
        policy = self.policy
        weights = declared_only(self.weights, policy)
        checks: dict[str, CheckState] = {}
        phase: Phase = "initializing"
        reason = f"rollout of {', '.join(wanted)} starts"
        if policy.ab_test is not None:
            test = policy.ab_test
            unobserved = unobserved_ab_metrics(test)
            if unobserved:
                phase = "failed"
                reason = (
                    f"A/B metric {', '.join(unobserved)} is not observed; observed:"
                    f" {', '.join(AB_METRICS)}"
                )
            else:
                weights = with_share(weights, test.treatment, test.treatment_percent, test.control)
                checks[AB_CHECK] = CheckState(name=AB_CHECK, analysis=start_ab(test))
        if policy.canary is not None and phase != "failed":
            weights = with_share(
                weights, policy.canary.version, policy.canary.steps[0].percent, policy.stable.id
            )
        self.checks = checks
        self.state = RolloutState(
            phase=phase,
            step_index=0 if policy.canary is not None else None,
            step_started_at=self.now if policy.canary is not None else None,
            decisions=before.decisions,
            subject=wanted,
            started_at=self.now,
            raw=before.raw,
        )
        self._route(weights, reason)
        self._record("start" if phase != "failed" else "fail", reason)
        event: Event = "rollout_started" if phase != "failed" else "failed"
        self._notify(event, "info" if phase != "failed" else "warning", reason)
        if phase == "initializing":
            self._update(target_generation=self._next_generation())

    def _observe(self) -> None:
        errors = self.observation.source_errors
        if errors:
            self.blind_reason = "metric source " + "; ".join(
                f"{source} failed: {message}" for source, message in sorted(errors.items())
            )
            return
        ingested = ingest(self.state.raw, self.state.totals, self.observation.counters())
        self.blind_reason = ingested.reset_reason
        window, self.window = trailing(
            self.state.window,
            ingested.totals,
            self.now,
            self.settings.evaluation_window_seconds,
            spacing=check_interval(self.policy),
        )
        self._update(
            raw=ingested.raw,
            totals=ingested.totals,
            window=window,
            reset_reason=ingested.reset_reason,
        )

    # People

    def _command(self, command: Command) -> None:
        phase = self.state.phase
        who = f"{command.kind} by {command.by}"
        if command.kind == "pause" and phase in ("initializing", "progressing"):
            self._pause(f"paused by {command.by}")
        elif command.kind == "resume" and phase == "paused":
            paused_at = self.state.paused_at or self.now
            started = self.state.step_started_at
            self._shift_runs(self.now - paused_at)
            self._update(
                phase=self.state.paused_from or "progressing",
                paused_at=None,
                paused_from=None,
                step_started_at=started + (self.now - paused_at) if started else None,
            )
            self._record("resume", f"resumed by {command.by}")
            self._notify("resumed", "info", f"resumed by {command.by}")
        elif command.kind == "abort" and phase in ("initializing", "progressing", "paused"):
            self._rollback("abort", (), f"aborted by {command.by}")
        elif command.kind == "promote" and phase in ("initializing", "progressing", "paused"):
            self._promote_rollout(f"promoted by {command.by}")
        else:
            self._record("ignore", f"{who} ignored: the rollout is {phase or 'not running'}")

    def _shift_runs(self, paused: timedelta) -> None:
        """Move the gates' runs of no data or errors on by the time spent paused."""
        for name, check in self.checks.items():
            if name.startswith("trigger "):
                continue
            self.checks[name] = check.model_copy(
                update={
                    "inconclusive_since": check.inconclusive_since + paused
                    if check.inconclusive_since
                    else None,
                    "error_since": check.error_since + paused if check.error_since else None,
                }
            )

    def _pause(self, reason: str) -> None:
        self._update(phase="paused", paused_at=self.now, paused_from=self.state.phase)
        self._record("pause", reason)
        self._notify("paused", "warning", reason)

    # Triggers

    def _triggers(self) -> None:
        safety = self.policy.safety
        if safety is None:
            return
        watched = [
            version
            for version, weight in self.weights.items()
            if weight > 0 and version != safety.fallback_version
        ]
        failing: list[tuple[str, str, str]] = []
        for trigger in safety.triggers:
            for version in watched:
                cause = self._trigger(trigger, version)
                if not cause:
                    continue
                if trigger.action == "alert_and_monitor":
                    self._notify("alert", "warning", cause, version)
                elif trigger.action == "pause":
                    if self.state.phase in ("initializing", "progressing"):
                        self._pause(cause)
                    else:
                        self._notify("alert", "warning", cause, version)
                else:
                    failing.append((trigger.action, version, cause))
        if failing:
            kind: RollbackKind = (
                "immediate" if any(a == "immediate_rollback" for a, _, _ in failing) else "gradual"
            )
            self._rollback(
                kind,
                tuple(version for _, version, _ in failing),
                "; ".join(c for _, _, c in failing),
            )

    def _trigger(self, trigger: Trigger, version: str) -> str:
        """Look at one trigger on one version if due; the cause when it acts now, else ""."""
        name = f"trigger {trigger.condition} on {version}"
        interval = (
            _trigger_interval(self.policy) if trigger.sequential else check_interval(self.policy)
        )
        if not self._due(name, interval):
            return ""
        before = self.checks.get(name)
        found = self._blinded() or trigger_check(
            trigger,
            window=self.window.get(version, Totals()),
            total=self.state.totals.get(version, Totals()),
            analysis=before.analysis if before is not None else None,
            settings=self.settings,
            lookback=max(1, math.ceil(self.settings.evaluation_window_seconds / interval)),
        )
        check = self._advance(name, found)
        # A rate shown past its threshold acts at once; a failing window acts after
        # `failure_threshold` check intervals of failing looks.
        needed = 1 if found.at_once else self.settings.failure_threshold
        if trigger.sequential and not found.at_once:
            needed *= max(1, math.ceil(check_interval(self.policy) / interval))
        if check.consecutive_fails < needed or check.acted:
            return ""
        self.checks[name] = check.model_copy(update={"acted": True})
        cause = f"{trigger.condition} on {version}"
        if not found.at_once:
            looks = "looks" if trigger.sequential else "checks"
            cause += f" for {check.consecutive_fails} {looks}"
        return cause + f" ({trigger.action}): {found.reason}"

    # Gates

    def _gates(self) -> None:
        policy = self.policy
        settings = self.settings
        gates: list[str] = []
        ab_running = policy.ab_test is not None and not self.state.ab_result
        under_test = [policy.canary.version] if policy.canary is not None else []
        if ab_running and policy.ab_test is not None:
            under_test += [policy.ab_test.control, policy.ab_test.treatment]
        interval = settings.check_interval_seconds
        if under_test:
            versions = tuple(dict.fromkeys(under_test))
            if self._due(DATA_CHECK, interval):
                self._advance(
                    DATA_CHECK, self._blinded() or data_check(versions, self.window, settings)
                )
            gates.append(DATA_CHECK)
        if policy.canary is not None:
            gates += self._criteria(policy.canary.success_criteria, policy.canary.version)
        ab_result = None
        if ab_running and policy.ab_test is not None and self._due(AB_CHECK, interval):
            check = self.checks[AB_CHECK]
            if self.blind_reason:
                self._advance(AB_CHECK, blind(self.blind_reason))
            else:
                elapsed = (self.now - (self.state.started_at or self.now)).total_seconds()
                found, ab_result = ab_check(
                    policy.ab_test, check.analysis or {}, self.state.totals, elapsed
                )
                self._advance(AB_CHECK, found)
        if self._stopped_by_bounds(gates + ([AB_CHECK] if ab_running else [])):
            return
        if ab_result is not None and ab_result.decision in ("winner", "no_difference_detected"):
            self._conclude_ab(ab_result.winner, ab_result.reason)
            if self.state.phase != "progressing":
                return
        if policy.canary is not None:
            self._ramp(gates)
        elif policy.shadow is not None and policy.ab_test is None:
            self._shadow()

    def _criteria(self, criteria: Iterable[Condition], canary: str) -> list[str]:
        names = []
        stable = self.policy.stable.id
        canary_ramp = self.policy.canary
        assert canary_ramp is not None
        interval = canary_ramp.check_interval_seconds or self.settings.check_interval_seconds
        for criterion in criteria:
            name = f"criterion {criterion}"
            names.append(name)
            if not self._due(name, interval):
                continue
            found = self._blinded() or criterion_check(
                criterion,
                canary=self.window.get(canary, Totals()),
                stable=self.window.get(stable, Totals()),
                settings=self.settings,
            )
            check = self._advance(name, found)
            if check.consecutive_fails >= self.settings.failure_threshold:
                self._rollback(
                    "immediate",
                    (),
                    f"canary criterion {criterion} failed {check.consecutive_fails} checks in a"
                    f" row: {found.reason}",
                )
                break
        return names

    def _stopped_by_bounds(self, gates: list[str]) -> bool:
        """Whether the rollout stopped progressing: a criterion rolled it back, or a gate has
        had no data, or been in error, for the no-data bound (then this rolls it back)."""
        if self.state.phase != "progressing":
            return True
        bound = timedelta(seconds=self.settings.no_data_bound_seconds)
        window = timedelta(seconds=self.settings.evaluation_window_seconds)
        for name in gates:
            check = self.checks[name]
            if check.inconclusive_since is not None and name != AB_CHECK:
                lasted = self.now - check.inconclusive_since
                if name == DATA_CHECK and not check.acted and lasted >= window:
                    # A window's worth: not the first seconds of a rollout filling its window.
                    self.checks[name] = check.model_copy(update={"acted": True})
                    self._notify("no_data", "warning", check.reason)
                if self.now - check.inconclusive_since >= bound:
                    self._rollback(
                        "immediate",
                        (),
                        f"{name} inconclusive for {bound.total_seconds():g} s: {check.reason}",
                    )
                    return True
            if check.error_since is not None and self.now - check.error_since >= bound:
                self._rollback(
                    "immediate",
                    (),
                    f"{name} in error for {bound.total_seconds():g} s: {check.reason}",
                )
                return True
        return False

    def _conclude_ab(self, winner: str | None, reason: str) -> None:
        test = self.policy.ab_test
        assert test is not None
        canary = self.policy.canary
        if canary is not None and canary.version == test.treatment:
            self._update(ab_result=reason)
            self._record("ab_decided", reason)
            self._notify("ab_decided", "info", reason, winner or test.control)
            if winner == test.treatment:
                self._promote_rollout(f"A/B test shows the canary better: {reason}")
            else:
                self._rollback("immediate", (), f"A/B test keeps the control: {reason}")
            return
        if winner == test.treatment:
            weights = moved(self.weights, [test.control], test.treatment)
        else:
            weights = moved(self.weights, [test.treatment], test.control)
        kept = winner or test.control
        self._update(ab_result=reason)
        self._route(weights, f"A/B test decided: {kept} takes the test's traffic")
        self._record("ab_decided", reason)
        self._notify("ab_decided", "info", reason, kept)
        if self.policy.canary is None:
            self._promoting(kept, f"{kept} takes the A/B test's traffic")

    def _ramp(self, gates: list[str]) -> None:
        canary = self.policy.canary
        assert canary is not None
        index = self.state.step_index or 0
        started = self.state.step_started_at or self.now
        held = (self.now - started).total_seconds() >= canary.steps[index].hold_seconds
        if not held or any(self.checks[name].outcome != Outcome.PASS.value for name in gates):
            return
        last = index + 1 == len(canary.steps)
        if self._waits_for_ab(100.0 if last else canary.steps[index + 1].percent):
            return
        if last:
            self._promote_rollout(
                f"{canary.version} held {len(canary.steps)} steps with every check passing"
            )
            return
        percent = canary.steps[index + 1].percent
        base = self.policy.stable.id
        if self.policy.ab_test is not None and self.weights.get(base, 0.0) == 0.0:
            base = self.policy.ab_test.treatment  # it took stable's share when it won
        reason = f"{canary.version} to {percent:g}% (step {index + 2} of {len(canary.steps)})"
        self._route(with_share(self.weights, canary.version, percent, base), reason)
        self._update(step_index=index + 1, step_started_at=self.now)
        self._record("step", reason)
        self._notify("step", "info", reason, canary.version)

    def _waits_for_ab(self, percent: float) -> bool:
        """Whether a canary step to `percent` must wait for the running A/B test to end: it
        would leave the control (stable) less traffic than the treatment has."""
        test = self.policy.ab_test
        canary = self.policy.canary
        if test is None or canary is None or self.state.ab_result:
            return False
        if test.treatment == canary.version:
            return False
        stable = self.policy.stable.id
        room = self.weights.get(stable, 0.0) + self.weights.get(canary.version, 0.0)
        return room - percent < self.weights.get(test.treatment, 0.0)

    def _shadow(self) -> None:
        shadow = self.policy.shadow
        assert shadow is not None
        started = self.state.started_at or self.now
        if (
            shadow.duration_seconds is not None
            and (self.now - started).total_seconds() >= shadow.duration_seconds
        ):
            reason = f"shadow test of {shadow.version} finished after {shadow.duration_seconds:g} s"
            self._update(phase="promoted", promoted_version=None)
            self._record("finish", reason)
            self._notify("promoted", "info", reason, shadow.version)

    # Promotion and rollback

    def _promote_rollout(self, reason: str) -> None:
        """Promote the canary (or else the A/B treatment) to all the traffic."""
        policy = self.policy
        if policy.canary is not None:
            winner = policy.canary.version
        elif policy.ab_test is not None:
            winner = policy.ab_test.treatment
        else:
            self._update(phase="promoted")
            self._record("promote", reason)
            self._notify("promoted", "info", reason)
            return
        if (
            policy.ab_test is not None
            and not self.state.ab_result
            and winner != policy.ab_test.treatment
        ):
            self._update(ab_result=f"stopped undecided: {winner} promoted")
        others = [version for version in self.weights if version != winner]
        self._route(moved(self.weights, others, winner), f"{winner} promoted to 100%")
        self._promoting(winner, reason)

    def _promoting(self, winner: str, reason: str) -> None:
        self._update(
            phase="promoting", promoted_version=winner, target_generation=self._next_generation()
        )
        self._record("promote", reason)

    def _rollback(self, kind: RollbackKind, failing: tuple[str, ...], cause: str) -> None:
        safety = self.policy.safety
        fallback = safety.fallback_version if safety is not None else self.policy.stable.id
        versions = tuple(
            version
            for version in dict.fromkeys((*failing, *self.state.subject))
            if version != fallback and self.weights.get(version, 0.0) > 0
        )
        schedule: tuple[float, ...] = (0.0,)
        canary = self.policy.canary
        index = self.state.step_index or 0
        if kind == "gradual" and canary is not None and index > 0:
            top = canary.steps[index].percent
            schedule = (*(canary.steps[j].percent / top for j in range(index - 1, -1, -1)), 0.0)
        rollback = RollbackState(
            cause=cause,
            kind=kind,
            versions=versions,
            fallback=fallback,
            started_at=self.now,
            from_weights=dict(self.weights),
            schedule=schedule[1:],
            step_at=self.now,
        )
        self._route(moved(self.weights, versions, fallback, schedule[0]), f"rollback: {cause}")
        if rollback.schedule:
            self.due.append(self.now + timedelta(seconds=self.settings.check_interval_seconds))
        else:
            rollback = rollback.model_copy(update={"generation": self._next_generation()})
        ab_result = self.state.ab_result
        if self.policy.ab_test is not None and not ab_result:
            ab_result = "stopped undecided: rolled back"
        self._update(phase="rolling_back", rollback=rollback, paused_at=None, ab_result=ab_result)
        self._record("abort" if kind == "abort" else "rollback", cause)
        self._notify("rollback_started", "critical" if kind != "abort" else "warning", cause)

    def _walk(self) -> None:
        rollback = self.state.rollback
        assert rollback is not None
        interval = timedelta(seconds=self.settings.check_interval_seconds)
        if rollback.schedule and self.now - rollback.step_at >= interval:
            keep = rollback.schedule[0]
            self._route(
                moved(rollback.from_weights, rollback.versions, rollback.fallback, keep),
                f"gradual rollback: {', '.join(rollback.versions)} at {keep:.0%} of their share",
            )
            rollback = rollback.model_copy(
                update={"schedule": rollback.schedule[1:], "step_at": self.now}
            )
            if not rollback.schedule:
                rollback = rollback.model_copy(update={"generation": self._next_generation()})
            self._update(rollback=rollback)
        if rollback.schedule:
            self.due.append(rollback.step_at + interval)
        if rollback.generation is not None and self._served(rollback.generation):
            final: Phase = "aborted" if rollback.kind == "abort" else "rolled_back"
            reason = (
                f"{', '.join(rollback.versions) or 'nothing'} at 0%, served by every replica"
                f" (generation {rollback.generation}); cause: {rollback.cause}"
            )
            self._update(phase=final, rollback=rollback.model_copy(update={"committed": True}))
            self._record(final, reason)
            self._notify("rollback_finished", "info", reason)

    def _await_routing(self) -> None:
        target = self.state.target_generation
        if target is None or not self._served(target):
            return
        if self.state.phase == "initializing":
            started = self.now if self.policy.canary is not None else None
            self._update(phase="progressing", target_generation=None, step_started_at=started)
            self._record("progress", f"first weights served by every replica (generation {target})")
        else:
            version = self.state.promoted_version
            verb = "promoted" if version in self.state.subject else "stays"
            reason = f"{version} {verb}, served by every replica (generation {target})"
            self._update(phase="promoted", target_generation=None)
            self._record("promoted", reason)
            self._notify("promoted", "info", reason, version)

    # Helpers

    def _blinded(self) -> Found | None:
        """An error outcome for every metric check while the inputs are unusable, else None."""
        return blind(self.blind_reason) if self.blind_reason else None

    def _due(self, name: str, interval: float) -> bool:
        """Whether check `name` is due: each check runs once per its interval, however often
        the controller looks (it polls faster while a routing change is being served)."""
        check = self.checks.get(name)
        step = timedelta(seconds=interval)
        if check is None or check.checked_at is None or self.now - check.checked_at >= step:
            self.due.append(self.now + step)
            return True
        self.due.append(check.checked_at + step)
        self.fresh.append(name)
        return False

    def _advance(self, name: str, found: Found) -> CheckState:
        check = advance(self.checks.get(name, CheckState(name=name)), found, self.now)
        self.checks[name] = check
        if name not in self.fresh:
            self.fresh.append(name)
        return check

    def _served(self, generation: int) -> bool:
        reported = self.observation.replica_generations
        return bool(reported) and all(served >= generation for served in reported.values())

    def _next_generation(self) -> int:
        return self.status.generation + 1

    def _route(self, weights: dict[str, float], reason: str) -> None:
        if weights != self.weights:
            self.weights = weights
            self.route_reasons.append(reason)

    def _record(self, action: str, reason: str) -> None:
        self.records.append(DecisionRecord(at=self.now, action=action, reason=reason))

    def _notify(
        self, event: Event, severity: Severity, summary: str, version: str | None = None
    ) -> None:
        self.notes.append(Notify(event=event, severity=severity, summary=summary, version=version))

    def _update(self, **fields: object) -> None:
        self.state = self.state.model_copy(update=fields)

    def _decision(self) -> Decision:
        # Triggers not looked at this tick (their version takes no traffic) start afresh;
        # gates keep their running tests through pauses and rollbacks.
        kept = [self.checks[name] for name in self.fresh]
        kept += [
            check
            for name, check in self.checks.items()
            if name not in self.fresh and not name.startswith("trigger ")
        ]
        decisions = (*self.state.decisions, *self.records)[-MAX_DECISIONS:]
        state = self.state.model_copy(update={"checks": tuple(kept), "decisions": decisions})
        changed = state != self.status.rollout or self.weights != self.status.weights
        generation = self.status.generation + 1 if changed else self.status.generation
        actions: list[Action] = []
        if self.weights != self.status.weights:
            actions.append(
                RouteChange(
                    weights=self.weights,
                    generation=generation,
                    reason="; ".join(self.route_reasons),
                )
            )
        actions += self.notes
        phase = state.phase
        requeue = check_interval(self.policy)
        if self.due:
            requeue = min(requeue, max((min(self.due) - self.now).total_seconds(), 0.0))
        if phase in _AWAITING:
            requeue = min(requeue, COMMIT_POLL_SECONDS)
        return Decision(
            # The loop sets `updated_at` and `writer` when it writes: no clock here.
            next_status=self.status.model_copy(
                update={"generation": generation, "weights": self.weights, "rollout": state}
            ),
            actions=tuple(actions),
            requeue_after=requeue,
        )
