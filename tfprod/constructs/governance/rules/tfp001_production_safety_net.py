"""TFP001: a production deployment declares a SafetyNet, so a bad version can be rolled back."""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.constructs.governance.findings import Hit, Rule
from tfprod.constructs.governance.view import StackView


def _check(view: StackView) -> Iterator[Hit]:
    for path, policy in view.production():
        if policy.safety is None:
            yield (
                path,
                f"production deployment {policy.name!r} has no SafetyNet; add"
                " SafetyNet(deployment, 'safety', fallback_model=..., triggers={...})",
            )


RULE = Rule(
    id="TFP001",
    level="error",
    title="production deployments have a SafetyNet",
    check=_check,
)
