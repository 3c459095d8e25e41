"""The registry of governance rules: every rule module under `rules/`, in id order."""

from tfprod.constructs.governance.findings import Rule
from tfprod.constructs.governance.rules import (
    tfp001_production_safety_net,
    tfp002_production_min_replicas,
    tfp003_production_alert_route,
    tfp004_no_literal_secrets,
    tfp005_pinned_images,
    tfp006_resource_requests,
    tfp007_canary_success_criteria,
    tfp008_ab_test_success_metric,
    tfp009_rollback_time_cap,
)

RULES: tuple[Rule, ...] = (
    tfp001_production_safety_net.RULE,
    tfp002_production_min_replicas.RULE,
    tfp003_production_alert_route.RULE,
    tfp004_no_literal_secrets.RULE,
    tfp005_pinned_images.RULE,
    tfp006_resource_requests.RULE,
    tfp007_canary_success_criteria.RULE,
    tfp008_ab_test_success_metric.RULE,
    tfp009_rollback_time_cap.RULE,
)


def rule_ids() -> tuple[str, ...]:
    """The id of every registered rule, in order."""
    return tuple(rule.id for rule in RULES)
