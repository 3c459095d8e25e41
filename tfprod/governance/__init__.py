"""Governance: cdk-nag-like rules over a synthesized stack and its deployments' policies.

Reads only synthesized JSON and `tfprod.policy`, so `tfprod review` runs without Node.js; the
part that records suppressions and settings on constructs is `tfprod.constructs.governance`.
"""

from tfprod.governance.check import Audit, audit_stack, check_stack
from tfprod.governance.findings import (
    Finding,
    GovernanceError,
    Level,
    Suppression,
    Unresolved,
)
from tfprod.governance.registry import RULES, rule_ids
from tfprod.governance.rule import Rule
from tfprod.governance.view import DEFAULT_MAX_ROLLBACK_SECONDS, StackView, stack_view

__all__ = [
    "DEFAULT_MAX_ROLLBACK_SECONDS",
    "RULES",
    "Audit",
    "Finding",
    "GovernanceError",
    "Level",
    "Rule",
    "StackView",
    "Suppression",
    "Unresolved",
    "audit_stack",
    "check_stack",
    "rule_ids",
    "stack_view",
]
