"""TFP001: a production deployment declares a SafetyNet, so a bad version can be rolled back."""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

LEVEL: Level = "error"
TITLE = "production deployments have a SafetyNet"


def check(view: StackView) -> Iterator[Hit]:
    for path, policy in view.production():
        if policy.safety is None:
            yield (
                path,
                f"production deployment {policy.name!r} has no SafetyNet; add"
                " SafetyNet(deployment, 'safety', fallback_model=..., triggers={...})",
            )
