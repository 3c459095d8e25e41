"""Recording suppressions and settings on constructs, so they reach the synthesized JSON.

`suppress` adds `tfprod:suppress` metadata to the construct (`node.metadata`), and both
functions keep a copy in the stack's `"//"` block (`"//": {"tfprod": {...}}` in
`cdk.tf.json`): the governance check at synth and a later `tfprod review` read the same
suppressions, with their reasons, from the stack document.
"""

from __future__ import annotations

from collections.abc import Sequence

from tfprod.bindings._core import Construct, TerraformStack
from tfprod.constructs.errors import ConstructError
from tfprod.governance.environments import check_environments, environments_from
from tfprod.governance.findings import GovernanceError, Suppression
from tfprod.governance.registry import rule_ids
from tfprod.governance.view import COMMENT_KEY, TFPROD_KEY, check_cap

SUPPRESS_METADATA = "tfprod:suppress"


def _stack_of(construct: Construct) -> TerraformStack:
    for scope in reversed(construct.node.scopes):
        if isinstance(scope, TerraformStack):
            return scope
    raise ConstructError(
        f"{construct.node.path}: scope: governance settings need a construct inside a"
        " TerraformStack"
    )


def suppress(construct: Construct, rule: str, reason: str) -> Suppression:
    """Waive `rule` (e.g. "TFP002") for `construct` and everything under it, saying why.

    ConstructError naming the construct path when the rule does not exist or `reason` is empty.
    """
    known = rule_ids()
    if rule not in known:
        raise ConstructError(
            f"{construct.node.path}: rule: {rule!r} is not a governance rule;"
            f" allowed: {', '.join(known)}"
        )
    try:
        suppression = Suppression(path=construct.node.path, rule=rule, reason=reason.strip())
    except GovernanceError as error:
        raise ConstructError(str(error)) from None
    stack = _stack_of(construct)
    construct.node.add_metadata(SUPPRESS_METADATA, {"rule": rule, "reason": suppression.reason})
    recorded = [
        {"path": child.node.path, "rule": entry.data["rule"], "reason": entry.data["reason"]}
        for child in stack.node.find_all()
        for entry in child.node.metadata
        if entry.type == SUPPRESS_METADATA
    ]
    recorded.sort(key=lambda item: (item["path"], item["rule"]))
    stack.add_override(f"{COMMENT_KEY}.{TFPROD_KEY}.suppressions", recorded)
    return suppression


def configure_governance(
    stack: TerraformStack,
    *,
    max_rollback_seconds: float | None = None,
    production_environments: Sequence[str] | None = None,
    non_production_environments: Sequence[str] | None = None,
) -> None:
    """Record the stack's governance settings; each one left out keeps its default.

    - `max_rollback_seconds`: cap on worst-case time to rollback (TFP009). Default: 600 s.
    - `production_environments`: environments the production rules (TFP001-TFP003) apply to.
      Default: production, prod, prd, live (less any listed as non-production).
    - `non_production_environments`: environments known not to be production; one in
      neither list gets a TFP010 warning. Default: staging, stage, stg, preprod, uat, qa,
      test, testing, dev, development, sandbox, preview, demo, ci, local (less any listed
      as production).

    ConstructError naming the stack when a value is unusable or an environment is in both.
    """
    settings: dict[str, object] = {}
    try:
        if max_rollback_seconds is not None:
            check_cap(max_rollback_seconds)
            settings["max_rollback_seconds"] = max_rollback_seconds
        if production_environments is not None:
            settings["production_environments"] = list(
                check_environments("production_environments", production_environments)
            )
        if non_production_environments is not None:
            settings["non_production_environments"] = list(
                check_environments("non_production_environments", non_production_environments)
            )
        environments_from(settings)
    except GovernanceError as error:
        raise ConstructError(f"{stack.node.path}: {error}") from None
    for key, value in settings.items():
        stack.add_override(f"{COMMENT_KEY}.{TFPROD_KEY}.governance.{key}", value)
