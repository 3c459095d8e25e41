"""TFP009: a deployment's worst-case time to rollback stays under the stack's cap.

The time comes from `tfprod.policy.rollback_timing` (detection window, check interval, failure
threshold, ramp length, no-data bound, actuation bound). Default cap: 600 s; change it per
stack with `configure_governance(stack, max_rollback_seconds=...)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView
from tfprod.policy import rollback_timing

LEVEL: Level = "error"
TITLE = "worst-case time to rollback under the cap"


def check(view: StackView) -> Iterator[Hit]:
    cap = view.max_rollback_seconds
    for path, policy in sorted(view.policies.items()):
        worst = rollback_timing(policy).worst
        if worst is not None and worst.seconds > cap:
            yield (
                path,
                f"worst-case time to rollback of {policy.name!r} is {worst.seconds:g} s"
                f" ({worst.cause}), over the cap of {cap:g} s; shorten the controller's"
                " windows, intervals or bounds, or raise the cap with"
                " configure_governance(stack, max_rollback_seconds=...)",
            )
