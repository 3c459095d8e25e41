"""Prometheus rules from a Policy: exact structure, promtool check rules, promtool test rules."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerting.conftest import minimal_policy, proposal_policy
from tfprod.constructs.alerting import prometheus_rule_groups
from tfprod.constructs.alerting.rules import duration

GATEWAY = 'namespace="ml", model="recommendation-engine"'
MINE = 'namespace="ml", deployment="recommendation-engine"'
LABELS = {"namespace": "ml", "deployment": "recommendation-engine"}
RUNBOOK = (
    "The controller acts on its own ({action}); its live weights and rollout state are in"
    " `kubectl -n ml get configmap recommendation-engine-status -o yaml`. Compare versions on"
    " the tfprod:* series of deployment recommendation-engine."
)


def rules_by_name(policy_groups: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for group in policy_groups:
        for rule in group["rules"]:
            found.setdefault(rule.get("record") or rule["alert"], []).append(rule)
    return found


def test_groups_are_named_for_the_deployment() -> None:
    groups = prometheus_rule_groups(proposal_policy())

    assert [group["name"] for group in groups] == [
        "tfprod-recommendation-engine.records",
        "tfprod-recommendation-engine.alerts",
    ]


def test_records_error_rate_per_version_as_zero_when_no_request_failed() -> None:
    rules = rules_by_name(prometheus_rule_groups(proposal_policy()))

    assert rules["tfprod:errors:rate5m"] == [
        {
            "record": "tfprod:errors:rate5m",
            "expr": "sum by (version) (label_replace(rate(tfprod_gateway_requests_total"
            f'{{{GATEWAY}, code=~"5.."}}[5m]), "version", "$1", "variant", "(.*)"))',
            "labels": LABELS,
        }
    ]
    assert rules["tfprod:error_rate:ratio_rate5m"] == [
        {
            "record": "tfprod:error_rate:ratio_rate5m",
            "expr": f"(tfprod:errors:rate5m{{{MINE}}} or tfprod:requests:rate5m{{{MINE}}} * 0)"
            f" / tfprod:requests:rate5m{{{MINE}}}",
            "labels": LABELS,
        }
    ]


def test_records_only_the_latency_quantiles_conditions_name_besides_p95() -> None:
    policy = proposal_policy(
        safety={"fallback_version": "rec-v2.0.0", "triggers": {"latency_p99 > 1s": "pause"}}
    )

    records = [name for name in rules_by_name(prometheus_rule_groups(policy)) if "latency" in name]

    assert records == ["tfprod:latency_p95:seconds5m", "tfprod:latency_p99:seconds5m"]


def test_a_minimal_policy_records_the_gateway_basics_and_alerts_on_missing_data() -> None:
    names = list(rules_by_name(prometheus_rule_groups(minimal_policy())))

    assert names == [
        "tfprod:requests:rate5m",
        "tfprod:errors:rate5m",
        "tfprod:error_rate:ratio_rate5m",
        "tfprod:latency_p95:seconds5m",
        "tfprod:prediction_confidence:mean5m",
        "tfprod:traffic_weight:ratio",
        "TfprodNoTraffic",
        "TfprodGatewayMetricsAbsent",
    ]


def test_monitoring_feature_drift_records_the_drift_score() -> None:
    policy = minimal_policy(monitor={"metrics": ["feature_drift"]})

    records = rules_by_name(prometheus_rule_groups(policy))["tfprod:drift_score:max"]

    assert records == [
        {
            "record": "tfprod:drift_score:max",
            "expr": 'max by (feature) (tfprod_drift_score{namespace="ml", deployment="fraud"})',
            "labels": {"namespace": "ml", "deployment": "fraud"},
        }
    ]


def test_safety_trigger_becomes_an_alert_waiting_as_long_as_the_controller() -> None:
    policy = proposal_policy(controller={"check_interval_seconds": 15, "failure_threshold": 4})

    alerts = rules_by_name(prometheus_rule_groups(policy))["TfprodErrorRateHigh"]

    assert alerts == [
        {
            "alert": "TfprodErrorRateHigh",
            "expr": f"tfprod:error_rate:ratio_rate5m{{{MINE}}} > 0.05 and on (namespace,"
            f" deployment, version) (tfprod:requests:rate5m{{{MINE}}} * 300 >= 100)",
            "for": "60s",
            "labels": {
                "severity": "critical",
                "deployment": "recommendation-engine",
                "trigger": "error_rate > 5%",
                "action": "immediate_rollback",
            },
            "annotations": {
                "summary": "recommendation-engine {{ $labels.version }}: error_rate > 5%",
                "description": "error_rate of recommendation-engine version {{ $labels.version }}"
                " is {{ $value }} (trigger: error_rate > 5%).",
                "runbook": RUNBOOK.format(action="immediate_rollback"),
            },
        }
    ]


def test_canary_criterion_alerts_on_the_canary_when_it_fails() -> None:
    alerts = rules_by_name(prometheus_rule_groups(proposal_policy()))

    latency = alerts["TfprodCanaryLatencyP95High"][0]
    assert latency["expr"] == (
        f'tfprod:latency_p95:seconds5m{{{MINE}, version="rec-v2.1.0"}} >= 0.1 and on (namespace,'
        f" deployment, version) (tfprod:requests:rate5m{{{MINE}}} * 300 >= 100)"
    )
    assert latency["labels"] == {
        "severity": "warning",
        "deployment": "recommendation-engine",
        "criterion": "latency_p95 < 100ms",
    }


def test_drift_alerts_for_the_detector_and_for_a_drift_trigger() -> None:
    alerts = rules_by_name(prometheus_rule_groups(proposal_policy()))["TfprodDriftScoreHigh"]

    assert [(alert["expr"], alert["labels"]) for alert in alerts] == [
        (
            f"tfprod:drift_score:max{{{MINE}}} > 0.1",
            {"severity": "warning", "deployment": "recommendation-engine", "threshold": "0.1"},
        ),
        (
            f"tfprod:drift_score:max{{{MINE}}} > 0.2",
            {"severity": "warning", "deployment": "recommendation-engine", "threshold": "0.2"},
        ),
    ]


def test_trigger_on_a_business_metric_is_left_to_the_controller() -> None:
    policy = minimal_policy(
        safety={"fallback_version": "fraud-v1", "triggers": {"revenue_per_user < 5": "pause"}}
    )

    alerts = [rule["alert"] for rule in prometheus_rule_groups(policy)[1]["rules"]]

    assert alerts == ["TfprodNoTraffic", "TfprodGatewayMetricsAbsent"]


def test_no_traffic_alert_waits_for_the_no_data_bound() -> None:
    policy = minimal_policy(controller={"no_data_bound_seconds": "2m"})

    alert = rules_by_name(prometheus_rule_groups(policy))["TfprodNoTraffic"][0]

    mine = 'namespace="ml", deployment="fraud"'
    assert alert["expr"] == (
        f"tfprod:traffic_weight:ratio{{{mine}}} > 0 unless on (namespace, deployment, version)"
        f" tfprod:requests:rate5m{{{mine}}} > 0"
    )
    assert alert["for"] == "120s"


@pytest.mark.parametrize(
    ("seconds", "written"), [(30.0, "30s"), (300.0, "300s"), (2.5, "2500ms"), (0.25, "250ms")]
)
def test_duration_is_written_in_whole_seconds_or_milliseconds(seconds: float, written: str) -> None:
    assert duration(seconds) == written


def write_rules(tmp_path: Path, groups: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.service
@pytest.mark.parametrize("policy", [proposal_policy(), minimal_policy()], ids=["full", "minimal"])
def test_promtool_accepts_the_rules(promtool: str, tmp_path: Path, policy: Any) -> None:
    path = write_rules(tmp_path, prometheus_rule_groups(policy))

    result = run(promtool, "check", "rules", str(path), cwd=tmp_path)

    count = sum(len(group["rules"]) for group in prometheus_rule_groups(policy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {count} rules found" in result.stdout


def series(
    metric: str, variant: str, values: str, code: str | None = None, outcome: str | None = None
) -> dict[str, str]:
    code_label = f', code="{code}"' if code else ""
    outcome_label = f', outcome="{outcome}"' if outcome else ""
    return {
        "series": f'{metric}{{{GATEWAY}, variant="{variant}"{code_label}{outcome_label}}}',
        "values": values,
    }


REQUESTS = "tfprod_gateway_requests_total"
WEIGHT = "tfprod_gateway_traffic_weight"
CANARY_LABELS = {
    "namespace": "ml",
    "deployment": "recommendation-engine",
    "version": "rec-v2.1.0",
}
# Ten seconds apart for 20 minutes: the canary answers 10 requests with 200 and 1 with 503 per
# interval (error rate 1/11); in the second case it has weight 0.05 and answers nothing; in the
# third one feature drifts by 0.15, above the detector's 0.1 but below the trigger's 0.2; in the
# fourth the canary crashes: each of its 11 requests per interval fails with 503 and is answered
# by the fallback (the stable version's fallback endpoint), as the gateway counts it.
UNIT_TESTS = [
    {
        "interval": "10s",
        "input_series": [
            series(REQUESTS, "rec-v2.1.0", "0+10x120", "200"),
            series(REQUESTS, "rec-v2.1.0", "0+1x120", "503"),
            series(REQUESTS, "rec-v2.0.0", "0+100x120", "200"),
            series(WEIGHT, "rec-v2.0.0", "0.95x120"),
            series(WEIGHT, "rec-v2.1.0", "0.05x120"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "10m",
                "alertname": "TfprodErrorRateHigh",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            **CANARY_LABELS,
                            "severity": "critical",
                            "action": "immediate_rollback",
                            "trigger": "error_rate > 5%",
                        },
                        "exp_annotations": {
                            "summary": "recommendation-engine rec-v2.1.0: error_rate > 5%",
                            "description": "error_rate of recommendation-engine version"
                            " rec-v2.1.0 is 0.09090909090909091 (trigger: error_rate > 5%).",
                            "runbook": RUNBOOK.format(action="immediate_rollback"),
                        },
                    }
                ],
            },
            {
                "eval_time": "10m",
                "alertname": "TfprodCanaryErrorRateHigh",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            **CANARY_LABELS,
                            "severity": "warning",
                            "criterion": "error_rate < 1%",
                        },
                        "exp_annotations": {
                            "summary": "recommendation-engine rec-v2.1.0: error_rate >= 1%",
                            "description": "error_rate of recommendation-engine version"
                            " rec-v2.1.0 is 0.09090909090909091 (criterion: error_rate < 1%).",
                            "runbook": RUNBOOK.format(
                                action="a failing criterion rolls the canary back"
                            ),
                        },
                    }
                ],
            },
            {"eval_time": "10m", "alertname": "TfprodNoTraffic", "exp_alerts": []},
            {"eval_time": "10m", "alertname": "TfprodGatewayMetricsAbsent", "exp_alerts": []},
        ],
    },
    {
        "interval": "10s",
        "input_series": [
            series(REQUESTS, "rec-v2.0.0", "0+100x120", "200"),
            series(WEIGHT, "rec-v2.1.0", "0.05x120"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "15m",
                "alertname": "TfprodNoTraffic",
                "exp_alerts": [
                    {
                        "exp_labels": {**CANARY_LABELS, "severity": "critical"},
                        "exp_annotations": {
                            "summary": "recommendation-engine rec-v2.1.0: weight above 0 but no"
                            " requests",
                            "description": "Version rec-v2.1.0 of recommendation-engine is"
                            " routed a share of traffic yet answered no request for 300s; the"
                            " controller treats this as no data and rolls a rollout back.",
                            "runbook": RUNBOOK.format(action="no data holds, then rolls back"),
                        },
                    }
                ],
            },
            {"eval_time": "15m", "alertname": "TfprodErrorRateHigh", "exp_alerts": []},
        ],
    },
    {
        "interval": "10s",
        "input_series": [
            series(REQUESTS, "rec-v2.0.0", "0+100x120", "200"),
            series(WEIGHT, "rec-v2.0.0", "1x120"),
            {
                "series": 'tfprod_drift_score{namespace="ml", deployment="recommendation-engine",'
                ' feature="basket_size"}',
                "values": "0.15x120",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "5m",
                "alertname": "TfprodDriftScoreHigh",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "namespace": "ml",
                            "deployment": "recommendation-engine",
                            "feature": "basket_size",
                            "threshold": "0.1",
                        },
                        "exp_annotations": {
                            "summary": "recommendation-engine: input drift on basket_size",
                            "description": "Drift score of feature basket_size is 0.15, above"
                            " 0.1 (drift detector threshold).",
                            "runbook": RUNBOOK.format(action="drift detector threshold"),
                        },
                    }
                ],
            },
        ],
    },
]


CRASHING_CANARY = {
    "interval": "10s",
    "input_series": [
        series(REQUESTS, "rec-v2.1.0", "0+11x120", "503", "fell_back"),
        series(REQUESTS, "rec-v2.0.0-fallback", "0+11x120", "200"),
        series(REQUESTS, "rec-v2.0.0", "0+100x120", "200"),
        series(WEIGHT, "rec-v2.0.0", "0.95x120"),
        series(WEIGHT, "rec-v2.1.0", "0.05x120"),
    ],
    "alert_rule_test": [
        {
            "eval_time": "10m",
            "alertname": "TfprodErrorRateHigh",
            "exp_alerts": [
                {
                    "exp_labels": {
                        **CANARY_LABELS,
                        "severity": "critical",
                        "action": "immediate_rollback",
                        "trigger": "error_rate > 5%",
                    },
                    "exp_annotations": {
                        "summary": "recommendation-engine rec-v2.1.0: error_rate > 5%",
                        "description": "error_rate of recommendation-engine version"
                        " rec-v2.1.0 is 1 (trigger: error_rate > 5%).",
                        "runbook": RUNBOOK.format(action="immediate_rollback"),
                    },
                }
            ],
        },
        {"eval_time": "10m", "alertname": "TfprodNoTraffic", "exp_alerts": []},
    ],
}
UNIT_TESTS.append(CRASHING_CANARY)


@pytest.mark.service
def test_promtool_unit_test_fires_the_alerts_the_series_call_for(
    promtool: str, tmp_path: Path
) -> None:
    write_rules(tmp_path, prometheus_rule_groups(proposal_policy()))
    unit_test = {"rule_files": ["rules.yml"], "evaluation_interval": "10s", "tests": UNIT_TESTS}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit_test, sort_keys=False))

    result = run(promtool, "test", "rules", "test.yml", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
