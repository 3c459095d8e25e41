"""Governance: cdk-nag-like rules over a synthesized stack and its deployments' policies."""

from tfprod.constructs.governance.annotate import (
    SUPPRESS_METADATA,
    configure_governance,
    suppress,
)
from tfprod.constructs.governance.check import Audit, audit_stack, check_stack
from tfprod.constructs.governance.findings import (
    Finding,
    GovernanceError,
    Level,
    Rule,
    Suppression,
)
from tfprod.constructs.governance.registry import RULES, rule_ids
from tfprod.constructs.governance.view import DEFAULT_MAX_ROLLBACK_SECONDS, StackView

__all__ = [
    "DEFAULT_MAX_ROLLBACK_SECONDS",
    "RULES",
    "SUPPRESS_METADATA",
    "Audit",
    "Finding",
    "GovernanceError",
    "Level",
    "Rule",
    "StackView",
    "Suppression",
    "audit_stack",
    "check_stack",
    "configure_governance",
    "rule_ids",
    "suppress",
]
