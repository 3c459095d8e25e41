"""Worst-case time from a fault to the end of its rollback, computed from a policy alone.

This is what the controller (`tfprod.runtime.controller.decide`) does, counted in the worst
case. With W the evaluation window, I the check interval, F the failure threshold
(consecutive failing checks), A the actuation bound and B the no-data bound (all from
`ControllerSettings`; a canary's own check interval replaces I for its criteria), T the rate
triggers' look interval (`TRIGGER_INTERVAL_SECONDS`, or I if shorter), k = ceil(I / T) looks
per check interval, and B' = B rounded up to whole check intervals (the bound is seen at a check):

- detection by a rate trigger (`Trigger.sequential`) = W + F * k * T: its sequential test acts
  as soon as the requests since one of its looks show the rate past the threshold, which for
  a fault of any size shown within one window of requests is at most W + T after the onset;
  for a fault only the window's value shows, the backstop: the window holds the fault's rate
  at most W after the onset, the next look comes at most T later, and F * k - 1 more failing
  looks follow, T apart. The latter is the worst case (with T = 1 s and I = 10 s it is
  W + F * I).
- detection by any other trigger, or a canary criterion = W + F * I: in the worst case a fault
  shows in the metrics only once it fills a whole window (W); the next check comes at most one
  interval later, and F - 1 more failing checks follow, one interval apart.
- immediate_rollback trigger, or a failed canary criterion: detection + A (one routing change).
- gradual_rollback trigger: detection + (n - 1) * I + A: the failing weight drops at once to
  the canary step below the one it is at, then one step lower each check interval, then to 0;
  from the top of n canary steps that is n - 1 intervals (none without a canary).
- no data during a rollout (a canary or an A/B test): W + I + B' + A: the last counted
  requests leave the window W after they came, the next check (at most I later) finds too few,
  the bound runs out at a check B' after that, one routing change follows.
- metrics unavailable during a rollout (the metric source fails): I + B' + A: the next check
  sees the error, the bound runs out B' later, one routing change follows (it needs no metrics).

How fast the sequential test shows a fault depends on the traffic and the fault's size, not
on the policy alone: `bench/rollback.py` and `bench/false_rollbacks.py` measure it.

alert_and_monitor and pause triggers never roll back, so they add no path. The worst case is
the longest path; a policy with no path has nothing to roll back. The end of a rollback is when
every gateway replica serves the weights without the failing version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tfprod.policy.document import Policy
from tfprod.policy.safety import TRIGGER_INTERVAL_SECONDS


@dataclass(frozen=True, kw_only=True)
class RollbackPath:
    """One way a policy ends in a rollback, and its worst-case duration."""

    cause: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class RollbackTiming:
    """Every rollback path of a policy, in policy order."""

    paths: tuple[RollbackPath, ...]

    @property
    def worst(self) -> RollbackPath | None:
        """The slowest path (the first of equals), or None when nothing can roll back."""
        return max(self.paths, key=lambda path: path.seconds, default=None)


def rollback_timing(policy: Policy) -> RollbackTiming:
    """The worst-case time to rollback of each path in `policy` (formula in the module doc)."""
    settings = policy.controller
    window = settings.evaluation_window_seconds
    interval = settings.check_interval_seconds
    actuation = settings.actuation_bound_seconds
    detection = window + settings.failure_threshold * interval
    look = min(TRIGGER_INTERVAL_SECONDS, interval)
    rate_detection = window + settings.failure_threshold * math.ceil(interval / look) * look
    paths: list[RollbackPath] = []
    if policy.canary is not None:
        canary_interval = policy.canary.check_interval_seconds or interval
        canary_detection = window + settings.failure_threshold * canary_interval
        paths.extend(
            RollbackPath(
                cause=f"canary criterion {str(criterion)!r} fails",
                seconds=canary_detection + actuation,
            )
            for criterion in policy.canary.success_criteria
        )
    if policy.safety is not None:
        steps = len(policy.canary.steps) if policy.canary is not None else 1
        for trigger in policy.safety.triggers:
            cause = f"trigger {str(trigger.condition)!r} ({trigger.action})"
            found = rate_detection if trigger.sequential else detection
            if trigger.action == "immediate_rollback":
                paths.append(RollbackPath(cause=cause, seconds=found + actuation))
            elif trigger.action == "gradual_rollback":
                seconds = found + (steps - 1) * interval + actuation
                paths.append(RollbackPath(cause=cause, seconds=seconds))
    if policy.canary is not None or policy.ab_test is not None:
        bound = math.ceil(settings.no_data_bound_seconds / interval) * interval
        paths.append(
            RollbackPath(
                cause="no data during the rollout",
                seconds=window + interval + bound + actuation,
            )
        )
        paths.append(
            RollbackPath(
                cause="metrics unavailable during the rollout",
                seconds=interval + bound + actuation,
            )
        )
    return RollbackTiming(paths=tuple(paths))
