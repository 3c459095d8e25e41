"""TFP007: a canary declares success criteria.

Without them only the safety net's triggers and missing data can stop the ramp: a canary that
is slower or less accurate than the stable version still reaches 100 percent.
"""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.constructs.governance.findings import Hit, Rule
from tfprod.constructs.governance.view import StackView


def _check(view: StackView) -> Iterator[Hit]:
    for path, policy in sorted(view.policies.items()):
        if policy.canary is not None and not policy.canary.success_criteria:
            yield (
                path,
                f"canary {policy.canary.version!r} of {policy.name!r} has no success criteria;"
                " give CanaryDeployment(..., success_criteria={'error_rate': '< 1%',"
                " 'latency_p95': '< 100ms'})",
            )


RULE = Rule(
    id="TFP007",
    level="warning",
    title="canaries have success criteria",
    check=_check,
)
