"""TFP007: a canary declares success criteria.

Without them only the safety net's triggers and missing data can stop the ramp: a canary that
is slower or less accurate than the stable version still reaches 100 percent.
"""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

LEVEL: Level = "warning"
TITLE = "canaries have success criteria"


def check(view: StackView) -> Iterator[Hit]:
    for path, policy in sorted(view.policies.items()):
        if policy.canary is not None and not policy.canary.success_criteria:
            yield (
                path,
                f"canary {policy.canary.version!r} of {policy.name!r} has no success criteria;"
                " give CanaryDeployment(..., success_criteria={'error_rate': '< 1%',"
                " 'latency_p95': '< 100ms'})",
            )
