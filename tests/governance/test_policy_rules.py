"""TFP007-TFP009: canary criteria, A/B success metrics and the time-to-rollback cap."""

from __future__ import annotations

from pathlib import Path

from tests.governance.stacks import DEPLOYMENT_PATH, build_stack, policies, version
from tfprod.governance import Suppression, check_stack

CANARY = {"version": "rec-v2.1.0", "steps": [[5, 60], [50, 60]]}


def _ab_test(*metrics: str) -> dict[str, object]:
    return {
        "versions": [version("rec-v2.0.0", "stable"), version("rec-v2.1.0", "challenger")],
        "canary": None,
        "ab_test": {
            "control": "rec-v2.0.0",
            "treatment": "rec-v2.1.0",
            "treatment_percent": 10,
            "metrics": list(metrics),
            "min_sample_size": 1000,
            "duration_seconds": "14d",
        },
        "traffic": {"weights": {"rec-v2.0.0": 90, "rec-v2.1.0": 10}},
    }


def test_canary_without_success_criteria_is_a_warning(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(canary=CANARY))
    assert [(f.rule, f.level, f.path, f.message) for f in findings] == [
        (
            "TFP007",
            "warning",
            "shop/rec",
            "canary 'rec-v2.1.0' of 'recommendation-engine' has no success criteria; give"
            " CanaryDeployment(..., success_criteria={'error_rate': '< 1%', 'latency_p95':"
            " '< 100ms'})",
        )
    ]


def test_canary_criteria_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP007", reason="safety net covers it")
    assert check_stack(build_stack(tmp_path), policies(canary=CANARY), [waiver]) == []


def test_ab_test_with_a_success_metric_passes(tmp_path: Path) -> None:
    changes = _ab_test("conversion_rate", "error_rate")
    assert check_stack(build_stack(tmp_path), policies(**changes)) == []


def test_ab_test_measuring_only_guardrails_is_a_warning(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(**_ab_test("error_rate", "latency_p95")))
    assert [(f.rule, f.level, f.path, f.message) for f in findings] == [
        (
            "TFP008",
            "warning",
            "shop/rec",
            "A/B test of 'recommendation-engine' ('rec-v2.0.0' vs 'rec-v2.1.0') measures only"
            " guardrails (error_rate, latency_p95); add a success metric such as conversion_rate"
            " or click_through_rate",
        )
    ]


def test_ab_metric_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP008", reason="a latency-only rewrite")
    changes = _ab_test("latency_p95")
    assert check_stack(build_stack(tmp_path), policies(**changes), [waiver]) == []


def test_slow_rollback_over_the_default_cap_is_an_error(tmp_path: Path) -> None:
    slow = {"no_data_bound_seconds": 900}
    findings = check_stack(build_stack(tmp_path), policies(controller=slow))
    assert [(f.rule, f.level, f.path, f.message) for f in findings] == [
        (
            "TFP009",
            "error",
            "shop/rec",
            "worst-case time to rollback of 'recommendation-engine' is 975 s (no data during the"
            " rollout), over the cap of 600 s; shorten the controller's windows, intervals or"
            " bounds, or raise the cap with configure_governance(stack, max_rollback_seconds=...)",
        )
    ]


def test_default_controller_settings_fit_the_default_cap(tmp_path: Path) -> None:
    assert check_stack(build_stack(tmp_path), policies()) == []


def test_explicit_cap_applies(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(), max_rollback_seconds=120)
    assert [f.message.split(";")[0] for f in findings] == [
        "worst-case time to rollback of 'recommendation-engine' is 375 s (no data during the"
        " rollout), over the cap of 120 s"
    ]


def test_rollback_cap_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP009", reason="nightly model, slow is ok")
    slow = {"no_data_bound_seconds": 900}
    assert check_stack(build_stack(tmp_path), policies(controller=slow), [waiver]) == []
