"""The controller's rollout state, as persisted in a deployment's status document.

Everything the controller needs to resume exactly where it was lives here: the phase and ramp
step, the decision log, the running totals its analyses were fed (rebased on counter resets),
a few snapshots of those totals so trailing windows can be computed from cumulative counters,
every check's running test and outcome counters, and the rollback in flight with the status
generation that carries it. The policy layer imports nothing of the runtime, so the analysis
states (`tfprod.runtime.analysis`) are kept here as plain JSON data and converted by the
controller.

Field names `phase`, `step_index`, `step_started_at` and `decisions` (with `at`, `action`,
`reason`) are those of the status document's rollout section.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from tfprod.policy._base import PolicyModel

MAX_DECISIONS = 100
"""The decision log keeps at most this many entries, newest last."""

Phase = Literal[
    "initializing",
    "progressing",
    "paused",
    "promoting",
    "promoted",
    "rolling_back",
    "rolled_back",
    "aborted",
    "failed",
]
"""Where a rollout is.

- initializing: the rollout's first weights are written, not yet served by every replica.
- progressing: checks run every interval; a canary steps up when its hold passed and every
  gate passes.
- paused: held by a person or a `pause` trigger; triggers still act, nothing steps.
- promoting: the promoted weights are written, not yet served by every replica.
- promoted: the rollout finished and its outcome is live (for an A/B test that may be the
  control staying).
- rolling_back: a rollback is written (or walking down), not yet served by every replica.
- rolled_back / aborted: the rollback (automatic / asked for by a person) is committed.
- failed: the rollout cannot run as declared (e.g. an A/B metric tfprod does not observe).
"""

PHASES: tuple[Phase, ...] = Phase.__args__  # type: ignore[attr-defined]
FINAL_PHASES: tuple[Phase, ...] = ("promoted", "rolled_back", "aborted", "failed")
CheckOutcome = Literal["pass", "fail", "inconclusive", "error"]
RollbackKind = Literal["immediate", "gradual", "abort"]


class DecisionRecord(PolicyModel):
    """One controller decision, kept so a restarted controller and a person can see why."""

    at: datetime
    """When the decision was taken (UTC)."""
    action: str
    """What was done, e.g. "start", "step", "promote", "rollback"."""
    reason: str
    """Why, in the user's terms, e.g. "error_rate 7.2% > 5% for 3 checks"."""


class FeedbackTotals(PolicyModel):
    """Feedback events of one name: how many, the sum of their values and of their squares."""

    count: float = 0.0
    total: float = 0.0
    sum_of_squares: float = 0.0


class Totals(PolicyModel):
    """Running totals of one version since the rollout's analysis started.

    `latency_counts` are per-bucket (not cumulative) counts for `latency_bounds` plus +Inf.
    """

    requests: float = 0.0
    """Attempts on the version, failed ones included."""
    errors: float = 0.0
    """Failed attempts (answered by the fallback or not)."""
    latency_bounds: tuple[float, ...] = ()
    """Finite upper bounds of the latency histogram, seconds; +Inf is implied."""
    latency_counts: tuple[float, ...] = ()
    feedback: dict[str, FeedbackTotals] = Field(default_factory=dict)
    """Per event name: click, conversion, revenue."""


class WindowPoint(PolicyModel):
    """The totals at one check, so a trailing window is "now minus the oldest point in it"."""

    at: datetime
    totals: dict[str, Totals]


class CheckState(PolicyModel):
    """One check (a criterion, a trigger on one version, the A/B test, the data check)."""

    name: str
    """E.g. "criterion error_rate < 1%", "trigger error_rate > 5% on rec-v2.1.0", "data"."""
    outcome: CheckOutcome | None = None
    """The latest outcome; None before the first check."""
    reason: str = ""
    checked_at: datetime | None = None
    """When it was last evaluated; each check runs once per its check interval."""
    consecutive_fails: int = Field(default=0, ge=0)
    inconclusive_since: datetime | None = None
    """Start of the current run of inconclusive outcomes (no data)."""
    error_since: datetime | None = None
    """Start of the current run of error outcomes (metric source failed)."""
    acted: bool = False
    """Its action (or notice) was taken for the current run of this outcome: once, not at
    every check."""
    analysis: dict[str, Any] | None = None
    """The A/B test's running mSPRT (`ABState.as_dict()`); None for the other checks, which
    look at one evaluation window at a time."""


class RollbackState(PolicyModel):
    """A rollback in flight or done: what moves where, on which schedule, and its commit."""

    cause: str
    """Why, e.g. "trigger error_rate > 5% on rec-v2.1.0 (immediate_rollback)"."""
    kind: RollbackKind
    versions: tuple[str, ...]
    """Versions whose traffic moves to the fallback."""
    fallback: str
    started_at: datetime
    from_weights: dict[str, float]
    """The weights when the rollback started; the walk scales the moved versions' shares."""
    schedule: tuple[float, ...]
    """Fractions of the moved shares still to apply, one per check interval; the last is 0."""
    step_at: datetime
    """When the last fraction was applied."""
    generation: int | None = None
    """The status generation carrying the final (0) fraction; None while walking down."""
    committed: bool = False
    """Every gateway replica reports `generation` or a later one."""


class RolloutState(PolicyModel):
    """The controller's part of the status. Every field defaults to "no rollout running"."""

    phase: Phase | None = None
    """Current phase. Default: none (no rollout)."""
    step_index: int | None = Field(default=None, ge=0)
    """Index of the current ramp step in the Policy's canary steps. Default: none."""
    step_started_at: datetime | None = None
    """When the current step began (UTC); moved on by the time spent paused. Default: none."""
    decisions: tuple[DecisionRecord, ...] = Field(default=(), max_length=MAX_DECISIONS)
    """The last decisions, oldest first, at most `MAX_DECISIONS`. Default: empty."""
    subject: tuple[str, ...] = ()
    """The versions under test (canary, A/B treatment, shadow); a change restarts the analysis."""
    started_at: datetime | None = None
    """When the current analysis started."""
    paused_at: datetime | None = None
    """When the rollout was paused; None unless paused."""
    paused_from: Phase | None = None
    """The phase a resume returns to."""
    raw: dict[str, Totals] = Field(default_factory=dict)
    """The last cumulative counters seen per series (a version, or "replica/version"), as the
    gateways export them."""
    totals: dict[str, Totals] = Field(default_factory=dict)
    """Totals since `started_at`, kept across counter resets."""
    window: tuple[WindowPoint, ...] = ()
    """Totals at recent checks, oldest first, covering the evaluation window."""
    reset_reason: str = ""
    """Set at a check that saw a counter go down (the checks' outcome is error at that check)."""
    checks: tuple[CheckState, ...] = ()
    ab_result: str = ""
    """The A/B test's final result in words; empty while it runs or without one."""
    promoted_version: str | None = None
    """The version a promotion made live (the A/B control when it stays)."""
    target_generation: int | None = None
    """Initializing / promoting: the status generation every replica must report."""
    rollback: RollbackState | None = None
