"""TFP001-TFP003: what production deployments must declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.governance.stacks import DEPLOYMENT_PATH, build_stack, policies
from tfprod.governance import Finding, GovernanceError, Suppression, check_stack


def test_a_complete_production_stack_has_no_findings(tmp_path: Path) -> None:
    assert check_stack(build_stack(tmp_path), policies()) == []


def test_production_without_safety_net_is_an_error(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(safety=None))
    assert findings == [
        Finding(
            rule="TFP001",
            level="error",
            path="shop/rec",
            message="production deployment 'recommendation-engine' has no SafetyNet; add"
            " SafetyNet(deployment, 'safety', fallback_model=..., triggers={...})",
        )
    ]
    assert str(findings[0]).startswith("ERROR TFP001 shop/rec: production deployment")


def test_staging_without_safety_net_passes(tmp_path: Path) -> None:
    assert check_stack(build_stack(tmp_path), policies(safety=None, environment="staging")) == []


def test_suppressed_safety_net_rule_is_waived(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP001", reason="batch scoring, no users")
    assert check_stack(build_stack(tmp_path), policies(safety=None), [waiver]) == []


def test_suppression_without_reason_is_refused() -> None:
    with pytest.raises(GovernanceError) as excinfo:
        Suppression(path=DEPLOYMENT_PATH, rule="TFP001", reason="  ")
    assert str(excinfo.value) == (
        "shop/rec: suppression of TFP001 has no reason; say why the rule does not apply here"
    )


def test_suppression_of_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP100", reason="typo")
    with pytest.raises(GovernanceError) as excinfo:
        check_stack(build_stack(tmp_path), policies(), [waiver])
    assert str(excinfo.value) == (
        "shop/rec: suppression names rule 'TFP100', which does not exist; allowed: TFP001,"
        " TFP002, TFP003, TFP004, TFP005, TFP006, TFP007, TFP008, TFP009, TFP010, TFP011"
    )


def test_suppression_elsewhere_does_not_waive(tmp_path: Path) -> None:
    waiver = Suppression(path="shop/recommender", rule="TFP001", reason="other deployment")
    findings = check_stack(build_stack(tmp_path), policies(safety=None), [waiver])
    assert [finding.rule for finding in findings] == ["TFP001"]


def test_production_with_one_hpa_replica_is_an_error(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path, min_replicas=1), policies())
    assert [(f.rule, f.level, f.path, f.message) for f in findings] == [
        (
            "TFP002",
            "error",
            "shop/rec/deployment",
            "Deployment 'rec-v2-0-0' of production deployment 'recommendation-engine': its"
            " autoscaler 'shop/rec/autoscaler' sets min_replicas 1; production needs at least 2"
            " (AutoScaling(min_replicas=2) or replicas=2) so one pod can fail or drain",
        )
    ]


def test_production_with_one_fixed_replica_is_an_error(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path, replicas="1", min_replicas=None), policies())
    assert [f.message for f in findings] == [
        "Deployment 'rec-v2-0-0' of production deployment 'recommendation-engine': it runs 1"
        " replica; production needs at least 2 (AutoScaling(min_replicas=2) or replicas=2) so"
        " one pod can fail or drain"
    ]


def test_unset_replicas_count_as_kubernetes_default_of_one(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path, replicas=None, min_replicas=None), policies())
    assert [(f.rule, f.path) for f in findings] == [("TFP002", "shop/rec/deployment")]


def test_hpa_minimum_counts_over_deployment_replicas(tmp_path: Path) -> None:
    assert check_stack(build_stack(tmp_path, replicas="1", min_replicas=3), policies()) == []


def test_staging_with_one_replica_passes(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, replicas="1", min_replicas=None)
    assert check_stack(stack, policies(environment="staging")) == []


def test_min_replicas_rule_suppressed_on_the_deployment_construct(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP002", reason="single-GPU node pool")
    stack = build_stack(tmp_path, min_replicas=1)
    assert check_stack(stack, policies(), [waiver]) == []


def test_production_without_alert_route_is_an_error(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(monitor={"metrics": ["error_rate"]}))
    assert [(f.rule, f.level, f.path, f.message) for f in findings] == [
        (
            "TFP003",
            "error",
            "shop/rec",
            "production deployment 'recommendation-engine' routes no alerts; add"
            " ModelMonitor(deployment, 'monitor', metrics=[...], alerts={'slack': ...,"
            " 'email': [...], 'pagerduty': ...})",
        )
    ]


def test_production_without_monitor_is_an_error(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(monitor=None))
    assert [(f.rule, f.path) for f in findings] == [("TFP003", "shop/rec")]


def test_alert_route_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP003", reason="paged by the platform SLO")
    assert check_stack(build_stack(tmp_path), policies(monitor=None), [waiver]) == []
