"""TFP003: a production deployment routes its alerts to people (Slack, e-mail or PagerDuty)."""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

LEVEL: Level = "error"
TITLE = "production deployments route alerts"


def check(view: StackView) -> Iterator[Hit]:
    for path, policy in view.production():
        if policy.monitor is None or policy.monitor.alerts is None:
            yield (
                path,
                f"production deployment {policy.name!r} routes no alerts; add"
                " ModelMonitor(deployment, 'monitor', metrics=[...], alerts={'slack': ...,"
                " 'email': [...], 'pagerduty': ...})",
            )
