"""Controller events and the Alertmanager alerts (API v2) they become.

An event is one-shot: its alert starts at the event and ends `hold` later, so Alertmanager
notifies it once and then sends the resolve. Its labels are the ones the routes rendered by
`tfprod.policy.alertmanager_config` match (`deployment`; `severity="critical"` pages) and
group by (`alertname`, `deployment`, `version`), with `namespace` for the inhibit rule.
Posting the same event twice gives the same labels and `startsAt`: Alertmanager keeps one
alert and notifies once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final = ("info", "warning", "critical")

# kind -> (alertname, what happened, in the user's terms). The kinds are the controller's.
EVENT_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "rollout_started": ("TfprodRolloutStarted", "a rollout started"),
    "step": ("TfprodRolloutStep", "the rollout moved to its next traffic step"),
    "paused": ("TfprodRolloutPaused", "the rollout is paused and holds its traffic split"),
    "resumed": ("TfprodRolloutResumed", "the rollout resumed"),
    "promoted": ("TfprodPromoted", "a version was promoted"),
    "ab_decided": ("TfprodABTestDecided", "the A/B test reached a decision"),
    "no_data": ("TfprodNoData", "the controller sees no metrics, so it holds the rollout"),
    "alert": ("TfprodControllerAlert", "a safety trigger asks for attention"),
    "rollback_started": ("TfprodRollbackStarted", "a rollback started"),
    "rollback_finished": (
        "TfprodRollbackFinished",
        "a rollback is committed: every gateway replica serves the fallback",
    ),
    "failed": ("TfprodRolloutFailed", "the rollout failed"),
}

RESERVED_LABELS: Final = frozenset(
    {"alertname", "namespace", "deployment", "severity", "event", "source"}
)
SOURCE: Final = "tfprod-controller"
_LABEL_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class EventError(ValueError):
    """A controller event cannot be built from what was given; the message says why."""


class NotifyAction(Protocol):
    """What the controller's `Notify` action carries (`tfprod.runtime.controller.actions`)."""

    @property
    def event(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def summary(self) -> str: ...
    @property
    def version(self) -> str | None: ...


@dataclass(frozen=True, kw_only=True)
class ControllerEvent:
    """Something the controller did or saw, about one deployment."""

    kind: str
    """One of `EVENT_KINDS`, e.g. "rollback_started"."""
    deployment: str
    namespace: str
    severity: Severity
    """"critical" pages (PagerDuty), "warning" and "info" go to Slack and e-mail."""
    summary: str
    """One line for a person, e.g. "rolling back rec-v2.1.0: error_rate 7% > 5%"."""
    at: datetime
    """When it happened (timezone-aware)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """More alert labels, e.g. {"version": "rec-v2.1.0"}. Default: none."""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise EventError(
                f"event kind {self.kind!r} is unknown; known kinds: {', '.join(EVENT_KINDS)}"
            )
        if self.severity not in SEVERITIES:
            raise EventError(
                f"event severity {self.severity!r} is unknown; use one of {', '.join(SEVERITIES)}"
            )
        if self.at.tzinfo is None:
            raise EventError(f"event time {self.at.isoformat()} has no timezone; give UTC")
        invalid = sorted(name for name in self.labels if not _LABEL_NAME.fullmatch(name))
        if invalid:
            raise EventError(
                f"event label names {', '.join(map(repr, invalid))} are not valid: use letters,"
                " digits and '_', not starting with a digit"
            )
        clashes = sorted(RESERVED_LABELS & set(self.labels))
        if clashes:
            raise EventError(
                f"event labels {', '.join(clashes)} are set from the event's own fields;"
                " drop them from labels"
            )

    @classmethod
    def from_notify(
        cls,
        action: NotifyAction,
        *,
        deployment: str,
        namespace: str,
        at: datetime,
    ) -> ControllerEvent:
        """The event for the controller's `Notify` action on `deployment`, decided at `at`."""
        labels = {} if action.version is None else {"version": action.version}
        return cls(
            kind=action.event,
            deployment=deployment,
            namespace=namespace,
            severity=action.severity,
            summary=action.summary,
            at=at,
            labels=labels,
        )

    @property
    def alertname(self) -> str:
        return EVENT_KINDS[self.kind][0]

    @property
    def description(self) -> str:
        version = self.labels.get("version")
        about = f" (version {version})" if version else ""
        return (
            f"Deployment {self.deployment} in namespace {self.namespace}{about}:"
            f" {EVENT_KINDS[self.kind][1]}. {self.summary}"
        )

    def console_line(self) -> str:
        """The event as one line, for a console with no Alertmanager behind it."""
        extra = "".join(f" {name}={value}" for name, value in sorted(self.labels.items()))
        line = (
            f"{_iso(self.at)} {self.severity.upper()} {self.namespace}/{self.deployment}"
            f" {self.kind}{extra}: {self.summary}"
        )
        return " ".join(line.split())  # one line whatever the summary holds


def alert(event: ControllerEvent, *, generator_url: str, hold: timedelta) -> dict[str, Any]:
    """The Alertmanager API v2 alert (`POST /api/v2/alerts` takes a list of these)."""
    return {
        "labels": {
            **event.labels,
            "alertname": event.alertname,
            "namespace": event.namespace,
            "deployment": event.deployment,
            "severity": event.severity,
            "event": event.kind,
            "source": SOURCE,
        },
        "annotations": {"summary": event.summary, "description": event.description},
        "startsAt": _iso(event.at),
        "endsAt": _iso(event.at + hold),
        "generatorURL": generator_url,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
