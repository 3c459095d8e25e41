"""Controller events: the alerts they become, their console line, and what they refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tfprod.runtime.notify import EVENT_KINDS, ControllerEvent, EventError, alert

AT = datetime(2026, 12, 1, 22, 30, 5, 250000, tzinfo=UTC)


def promoted(**changes: object) -> ControllerEvent:
    fields: dict[str, object] = {
        "kind": "promoted",
        "deployment": "recommendation-engine",
        "namespace": "ml",
        "severity": "info",
        "summary": "rec-v2.1.0 promoted: every step passed",
        "at": AT,
        "labels": {"version": "rec-v2.1.0"},
    }
    fields.update(changes)
    return ControllerEvent(**fields)  # type: ignore[arg-type]


def test_an_event_becomes_a_one_shot_alert_with_the_routed_labels() -> None:
    assert alert(promoted(), generator_url="http://127.0.0.1:8081/", hold=timedelta(minutes=5)) == {
        "labels": {
            "alertname": "TfprodPromoted",
            "namespace": "ml",
            "deployment": "recommendation-engine",
            "severity": "info",
            "event": "promoted",
            "source": "tfprod-controller",
            "version": "rec-v2.1.0",
        },
        "annotations": {
            "summary": "rec-v2.1.0 promoted: every step passed",
            "description": "Deployment recommendation-engine in namespace ml (version"
            " rec-v2.1.0): a version was promoted. rec-v2.1.0 promoted: every step passed",
        },
        "startsAt": "2026-12-01T22:30:05.250Z",
        "endsAt": "2026-12-01T22:35:05.250Z",
        "generatorURL": "http://127.0.0.1:8081/",
    }


def test_times_are_written_in_utc_whatever_zone_the_event_has() -> None:
    local = AT.astimezone(timezone(timedelta(hours=2)))

    written = alert(promoted(at=local), generator_url="http://x/", hold=timedelta(seconds=1))

    assert (written["startsAt"], written["endsAt"]) == (
        "2026-12-01T22:30:05.250Z",
        "2026-12-01T22:30:06.250Z",
    )


def test_the_console_line_is_one_line_with_every_label() -> None:
    event = promoted(summary="rec-v2.1.0 promoted:\n  every step passed")

    assert event.console_line() == (
        "2026-12-01T22:30:05.250Z INFO ml/recommendation-engine promoted version=rec-v2.1.0:"
        " rec-v2.1.0 promoted: every step passed"
    )


def test_every_controller_event_has_its_own_alert_name() -> None:
    names = [name for name, _ in EVENT_KINDS.values()]

    assert len(set(names)) == len(names) == 11
    assert all(name.startswith("Tfprod") for name in names)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"kind": "exploded"},
            "event kind 'exploded' is unknown; known kinds: rollout_started, step, paused,"
            " resumed, promoted, ab_decided, no_data, alert, rollback_started,"
            " rollback_finished, failed",
        ),
        (
            {"severity": "page"},
            "event severity 'page' is unknown; use one of info, warning, critical",
        ),
        (
            {"at": datetime(2026, 12, 1, 22, 30)},
            "event time 2026-12-01T22:30:00 has no timezone; give UTC",
        ),
        (
            {"labels": {"team-name": "ml", "1st": "x"}},
            "event label names '1st', 'team-name' are not valid: use letters, digits and '_',"
            " not starting with a digit",
        ),
        (
            {"labels": {"deployment": "other", "severity": "critical", "team": "ml"}},
            "event labels deployment, severity are set from the event's own fields; drop them"
            " from labels",
        ),
    ],
)
def test_a_bad_event_is_refused_naming_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(EventError) as raised:
        promoted(**changes)

    assert str(raised.value) == message


def test_the_controllers_notify_action_maps_to_an_event() -> None:
    actions = pytest.importorskip(
        "tfprod.runtime.controller.actions", reason="the controller branch is not merged yet"
    )
    notify = actions.Notify(
        event="rollback_started",
        severity="critical",
        summary="rolling back rec-v2.1.0: error_rate 7% > 5%",
        version="rec-v2.1.0",
    )

    event = ControllerEvent.from_notify(
        notify, deployment="recommendation-engine", namespace="ml", at=AT
    )

    assert event == ControllerEvent(
        kind="rollback_started",
        deployment="recommendation-engine",
        namespace="ml",
        severity="critical",
        summary="rolling back rec-v2.1.0: error_rate 7% > 5%",
        at=AT,
        labels={"version": "rec-v2.1.0"},
    )
