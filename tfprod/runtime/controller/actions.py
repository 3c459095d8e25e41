"""What a decision asks the loop around `decide` to do, in order, and the decision itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tfprod.policy import DeploymentStatus

Event = Literal[
    "rollout_started",
    "step",
    "paused",
    "resumed",
    "promoted",
    "ab_decided",
    "no_data",
    "alert",
    "rollback_started",
    "rollback_finished",
    "failed",
]
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, kw_only=True)
class RouteChange:
    """Serve exactly these weights (percent per version) from status `generation` on.

    Absolute, so applying it twice is applying it once.
    """

    weights: dict[str, float]
    generation: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class Notify:
    """A controller event for Alertmanager (or the console), with the deployment's labels."""

    event: Event
    severity: Severity
    summary: str
    version: str | None = None
    """The version the event is about, if one."""


Action = RouteChange | Notify


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The status to persist, the actions to take (a route change first), when to look again."""

    next_status: DeploymentStatus
    actions: tuple[Action, ...]
    requeue_after: float
    """Seconds until the next check."""
