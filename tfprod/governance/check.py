"""Running the rule pack over one stack: findings, with suppressions applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfprod.governance.findings import Finding, GovernanceError, Suppression
from tfprod.governance.registry import RULES, rule_ids
from tfprod.governance.view import recorded_suppressions, stack_view
from tfprod.policy import Policy


@dataclass(frozen=True, kw_only=True)
class Audit:
    """Everything the rules found on a stack: what stands, and what a suppression waived."""

    findings: tuple[Finding, ...]
    """Findings no suppression covers: errors fail synth, warnings are printed."""
    suppressed: tuple[tuple[Finding, Suppression], ...]
    """Waived findings, each with the suppression that waived it."""


def audit_stack(
    stack_json: Mapping[str, Any],
    policies: Mapping[str, Policy],
    suppressions: Iterable[Suppression] = (),
    *,
    max_rollback_seconds: float | None = None,
) -> Audit:
    """Run every rule on a stack (see `check_stack` for the arguments)."""
    every = (*recorded_suppressions(stack_json), *suppressions)
    known = rule_ids()
    for suppression in every:
        if suppression.rule not in known:
            raise GovernanceError(
                f"{suppression.path}: suppression names rule {suppression.rule!r}, which does"
                f" not exist; allowed: {', '.join(known)}"
            )
    view = stack_view(stack_json, policies, max_rollback_seconds=max_rollback_seconds)
    findings: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression]] = []
    for rule in RULES:
        for finding in rule.run(view):
            waiver = next((item for item in every if item.covers(finding)), None)
            if waiver is None:
                findings.append(finding)
            else:
                suppressed.append((finding, waiver))
    return Audit(findings=tuple(findings), suppressed=tuple(suppressed))


def check_stack(
    stack_json: Mapping[str, Any],
    policies: Mapping[str, Policy],
    suppressions: Iterable[Suppression] = (),
    *,
    max_rollback_seconds: float | None = None,
) -> list[Finding]:
    """The findings that stand on one stack, in rule order.

    - `stack_json`: the stack's synthesized document (`stack.to_terraform()` or its
      `cdk.tf.json`); suppressions and settings recorded with `suppress` and
      `configure_governance` are read from it.
    - `policies`: each ModelDeployment's policy keyed by its construct path; production rules
      apply to those whose environment is "production".
    - `suppressions`: more suppressions on top of the recorded ones. Default: none.
    - `max_rollback_seconds`: cap for TFP009. Default: the stack's recorded cap, else 600 s.

    GovernanceError when a suppression names an unknown rule or has no reason.
    """
    return list(
        audit_stack(
            stack_json, policies, suppressions, max_rollback_seconds=max_rollback_seconds
        ).findings
    )
