"""Every alert a fully monitored deployment gets (latency p95, throughput, error rate, prediction
confidence, non-finite predictions, drift per feature, click rate, conversion, revenue per
request) fires on degraded series and stays quiet on healthy ones, under `promtool test rules`.

The input series are named and labelled as the gateway emits them (plus the `namespace` label
Prometheus adds when it scrapes); `test_monitored_series_are_the_ones_a_real_gateway_exports`
checks that against a running gateway's `/metrics`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.alerting.conftest import minimal_policy
from tests.gateway.conftest import BODY, Stack, servers, stack, wait_for
from tests.gateway.test_nonfinite_predictions import fixed_answers
from tfprod.constructs.alerting import prometheus_rule_groups
from tfprod.runtime.gateway.metrics import CONFIDENCE_BUCKETS, LATENCY_BUCKETS

__all__ = ["servers", "stack"]  # the gateway fixtures this module uses

VERSION = "fraud-v1"
TRIGGERS = {
    "error_rate > 5%": "immediate_rollback",
    "latency_p95 > 200ms": "gradual_rollback",
    "throughput < 1": "alert_and_monitor",
    "prediction_confidence < 60%": "pause",
    "drift_score > 0.2": "alert_and_monitor",
    "click_rate < 5%": "alert_and_monitor",
    "conversion_rate < 1%": "alert_and_monitor",
    "revenue_per_request < 0.5": "alert_and_monitor",
}
POLICY = minimal_policy(
    monitor={
        "metrics": {
            "performance": ["prediction_latency", "throughput", "error_rate"],
            "quality": ["prediction_confidence", "nonfinite_predictions", "feature_drift"],
            "business": ["click_rate", "conversion_rate", "revenue_per_request"],
        }
    },
    safety={"fallback_version": VERSION, "triggers": TRIGGERS},
)
RUNBOOK = (
    "The controller acts on its own ({action}); its live weights and rollout state are in"
    " `kubectl -n ml get configmap fraud-status -o yaml`. Compare versions on the tfprod:*"
    " series of deployment fraud."
)
CONDITION_ALERTS = {
    "TfprodErrorRateHigh": "error_rate > 5%",
    "TfprodLatencyP95High": "latency_p95 > 200ms",
    "TfprodThroughputLow": "throughput < 1",
    "TfprodPredictionConfidenceLow": "prediction_confidence < 60%",
    "TfprodClickRateLow": "click_rate < 5%",
    "TfprodConversionRateLow": "conversion_rate < 1%",
    "TfprodRevenuePerRequestLow": "revenue_per_request < 0.5",
}
ALL_ALERTS = [
    *CONDITION_ALERTS,
    "TfprodDriftScoreHigh",
    "TfprodNoTraffic",
    "TfprodGatewayMetricsAbsent",
    "TfprodNonFinitePredictions",
]


def gateway_series(metric: str, values: str, **labels: str) -> dict[str, str]:
    written = ", ".join(f'{name}="{value}"' for name, value in labels.items())
    return {
        "series": f'{metric}{{namespace="ml", model="fraud", variant="{VERSION}", {written}}}'
        if written
        else f'{metric}{{namespace="ml", model="fraud", variant="{VERSION}"}}',
        "values": values,
    }


def histogram(metric: str, bounds: tuple[float, ...], bound: float, per_step: int) -> Iterator[
    dict[str, str]
]:  # fmt: skip
    """A histogram as the gateway renders it: every bucket, `per_step` observations each 10 s
    in the bucket of `bound` (so cumulative from there), and the count; the sum is apart."""
    for le in (*bounds, float("inf")):
        step = per_step if le >= bound else 0
        shown = "+Inf" if le == float("inf") else f"{le:g}"
        yield gateway_series(f"{metric}_bucket", f"0+{step}x120", le=shown)
    yield gateway_series(f"{metric}_count", f"0+{per_step}x120")


def drift(feature: str, score: float) -> dict[str, str]:
    labels = f'namespace="ml", deployment="fraud", feature="{feature}"'
    return {"series": f"tfprod_drift_score{{{labels}}}", "values": f"{score:g}x120"}


def traffic(
    *, answered: int, failed: int, latency: float, confidence: tuple[int, int], clicks: int,
    conversions: int, revenue: int, nonfinite: int, drifts: dict[str, float],
) -> list[dict[str, str]]:  # fmt: skip
    """Ten-second steps for 20 minutes of one version's traffic: `answered` 200s and `failed`
    503s per step; `confidence` is (sum, count) per step; feedback counters per step."""
    series = [
        gateway_series("tfprod_gateway_requests_total", f"0+{answered}x120", code="200"),
        gateway_series("tfprod_gateway_traffic_weight", "1x120"),
        gateway_series("tfprod_gateway_prediction_nonfinite_total", f"0+{nonfinite}x120"),
        gateway_series(
            "tfprod_gateway_request_duration_seconds_sum", f"0+{latency * (answered + failed)}x120"
        ),
        *histogram(
            "tfprod_gateway_request_duration_seconds", LATENCY_BUCKETS, latency, answered + failed
        ),
        gateway_series("tfprod_gateway_prediction_confidence_sum", f"0+{confidence[0]}x120"),
        *histogram(
            "tfprod_gateway_prediction_confidence",
            CONFIDENCE_BUCKETS,
            confidence[0] / confidence[1],
            confidence[1],
        ),
        *(drift(feature, score) for feature, score in drifts.items()),
    ]
    if failed:
        series.append(
            gateway_series(
                "tfprod_gateway_requests_total", f"0+{failed}x120", code="503", outcome="failed"
            )
        )
    for event, count in (("click", clicks), ("conversion", conversions), ("revenue", revenue)):
        if count:
            series.append(
                gateway_series(
                    "tfprod_gateway_feedback_events_total", f"0+{count}x120", event=event
                )
            )
    if revenue:
        series.append(
            gateway_series(
                "tfprod_gateway_feedback_value_total", f"0+{revenue * 5}x120", event="revenue"
            )
        )
        series.append(
            gateway_series(
                "tfprod_gateway_feedback_value_squares_total",
                f"0+{revenue * 25}x120",
                event="revenue",
            )
        )
    return series


# 4 answers a second, in 20 ms, confidence 0.9, 10% clicks, 2.5% conversions, one revenue event
# of 5 per 4 answers (1.25 per request), no non-finite rows, little drift.
HEALTHY = traffic(
    answered=40, failed=0, latency=0.02, confidence=(36, 40), clicks=4, conversions=1,
    revenue=10, nonfinite=0, drifts={"amount": 0.05, "merchant": 0.1},
)  # fmt: skip
# 4 answers and 1 failure a second (error rate 0.2), in 300 ms (p95 interpolated in the
# 0.25-0.5 s bucket: 0.4875), confidence 0.5 (all in the 0.5 bucket), 2.5% clicks, no
# conversion at all, 5 revenue per 40 answers (0.125 per request), 1 non-finite row a second,
# and feature `amount` drifted.
DEGRADED = traffic(
    answered=40, failed=10, latency=0.3, confidence=(20, 40), clicks=1, conversions=0,
    revenue=1, nonfinite=10, drifts={"amount": 0.35, "merchant": 0.1},
)  # fmt: skip
# Half a request a second: enough samples (150 in 5 minutes, min_samples is 100), too slow.
SLOW = traffic(
    answered=5, failed=0, latency=0.02, confidence=(9, 10), clicks=1, conversions=1,
    revenue=1, nonfinite=0, drifts={},
)  # fmt: skip

ON_VERSION = {"namespace": "ml", "deployment": "fraud", "version": VERSION}


def condition_alert(name: str, value: str) -> dict[str, Any]:
    written = CONDITION_ALERTS[name]
    action = TRIGGERS[written]
    metric = written.split()[0]
    severity = {"immediate_rollback": "critical", "gradual_rollback": "critical"}.get(
        action, "warning"
    )
    return {
        "exp_labels": {
            **ON_VERSION,
            "severity": severity,
            "trigger": written,
            "action": action,
        },
        "exp_annotations": {
            "summary": f"fraud {VERSION}: {written}",
            "description": f"{metric} of fraud version {VERSION} is {value} (trigger: {written}).",
            "runbook": RUNBOOK.format(action=action),
        },
    }


def expected(alert: str, *alerts: dict[str, Any]) -> dict[str, Any]:
    return {"eval_time": "10m", "alertname": alert, "exp_alerts": list(alerts)}


DEGRADED_ALERTS = {
    "TfprodErrorRateHigh": [condition_alert("TfprodErrorRateHigh", "0.2")],
    "TfprodLatencyP95High": [condition_alert("TfprodLatencyP95High", "0.4875")],
    "TfprodPredictionConfidenceLow": [condition_alert("TfprodPredictionConfidenceLow", "0.5")],
    "TfprodClickRateLow": [condition_alert("TfprodClickRateLow", "0.025")],
    "TfprodConversionRateLow": [condition_alert("TfprodConversionRateLow", "0")],
    "TfprodRevenuePerRequestLow": [condition_alert("TfprodRevenuePerRequestLow", "0.125")],
    "TfprodDriftScoreHigh": [
        {
            "exp_labels": {
                "severity": "warning",
                "namespace": "ml",
                "deployment": "fraud",
                "feature": "amount",
                "threshold": "0.2",
            },
            "exp_annotations": {
                "summary": "fraud: input drift on amount",
                "description": "Drift score of feature amount is 0.35, above 0.2"
                " (alert_and_monitor).",
                "runbook": RUNBOOK.format(action="alert_and_monitor"),
            },
        }
    ],
    "TfprodNonFinitePredictions": [
        {
            "exp_labels": {**ON_VERSION, "severity": "warning"},
            "exp_annotations": {
                "summary": f"fraud {VERSION}: predictions hold NaN or infinities",
                "description": f"Version {VERSION} of fraud answers 1 prediction rows per"
                " second holding NaN or an infinity.",
                "runbook": RUNBOOK.format(action="non-finite predictions are not acted on"),
            },
        }
    ],
}
UNIT_TESTS = [
    {
        "name": "healthy: every alert stays quiet",
        "interval": "10s",
        "input_series": HEALTHY,
        "alert_rule_test": [expected(alert) for alert in ALL_ALERTS],
    },
    {
        "name": "degraded: each degraded measure fires its alert, the others stay quiet",
        "interval": "10s",
        "input_series": DEGRADED,
        "alert_rule_test": [
            expected(alert, *DEGRADED_ALERTS.get(alert, [])) for alert in ALL_ALERTS
        ],
    },
    {
        "name": "slow: throughput fires alone",
        "interval": "10s",
        "input_series": SLOW,
        "alert_rule_test": [
            expected(
                alert, *([condition_alert(alert, "0.5")] if alert == "TfprodThroughputLow" else [])
            )
            for alert in ALL_ALERTS
        ],
    },
]


def test_every_alert_of_the_policy_has_a_case() -> None:
    alerts = [rule["alert"] for rule in prometheus_rule_groups(POLICY)[1]["rules"]]

    assert sorted(alerts) == sorted(ALL_ALERTS)


def run_promtool(promtool: str, tmp_path: Path, tests: list[dict[str, Any]]) -> str:
    rules = {"groups": prometheus_rule_groups(POLICY)}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    unit_test = {"rule_files": ["rules.yml"], "evaluation_interval": "10s", "tests": tests}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit_test, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", "test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return f"{result.returncode}\n{result.stdout}{result.stderr}"


@pytest.mark.service
def test_promtool_fires_each_alert_on_degraded_series_only(promtool: str, tmp_path: Path) -> None:
    output = run_promtool(promtool, tmp_path, UNIT_TESTS)

    assert output.startswith("0\n"), output
    assert "SUCCESS" in output


@pytest.mark.service
def test_promtool_fails_a_case_expecting_quiet_on_degraded_series(
    promtool: str, tmp_path: Path
) -> None:
    """The cases can fail: expecting no click-rate alert on degraded series is reported."""
    wrong = {**UNIT_TESTS[1], "alert_rule_test": [expected("TfprodClickRateLow")]}

    output = run_promtool(promtool, tmp_path, [wrong])

    assert output.startswith("1\n"), output
    assert "alertname: TfprodClickRateLow" in output


def shapes(series: list[dict[str, str]]) -> set[tuple[str, frozenset[str]]]:
    """(metric name, label names) of promtool input series, without Prometheus' `namespace`."""
    found = set()
    for item in series:
        name, _, labels = item["series"].partition("{")
        label_names = frozenset(re.findall(r"(\w+)=", labels)) - {"namespace"}
        found.add((name, label_names))
    return found


def test_monitored_series_are_the_ones_a_real_gateway_exports(stack: Stack) -> None:
    """A gateway answering, failing, returning a NaN row and counting feedback exports every
    series shape the cases use (the drift score comes from the drift detector, not the gateway)."""
    stack.upstream("good")
    stack.upstream("bad")
    stack.upstreams["bad"].fail_with = 500
    stack.urls["odd"] = stack.servers.serve(fixed_answers)
    routes = [
        {"model": model, "variants": [{"name": name, "url": stack.urls[name], "weight": 1}]}
        for model, name in (("clf", "good"), ("broken", "bad"), ("odd", "odd"))
    ]
    client = stack.start({"routes": routes}, token=None, feedback_key=b"k" * 32)
    answer = client.post("/v1/models/clf:predict", content=BODY)
    request_id = answer.headers["X-Request-Id"]
    for event, value in (("click", {}), ("conversion", {}), ("revenue", {"value": 5.0})):
        counted = client.post(
            "/v1/feedback", json={"request_id": request_id, "event": event, **value}
        )
        assert counted.status_code == 200, counted.text
    client.post("/v1/models/odd:predict", json={"instances": [[1, 2, 3, 4]], "case": "nan"})
    assert client.post("/v1/models/broken:predict", content=BODY).status_code == 500
    wait_for(lambda: "nonfinite_total{" in client.get("/metrics").text, "the NaN row counted")

    exported = {
        (sample.name, frozenset(sample.labels))
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
    }
    used = {
        shape
        for case in UNIT_TESTS
        for shape in shapes(case["input_series"])
        if shape[0] != "tfprod_drift_score"
    }
    assert used - exported == set()
