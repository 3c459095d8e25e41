"""The deployment's Grafana dashboard: structural checks (no offline validator exists), its
PromQL accepted by promtool, and the ConfigMap the stack declares for the Grafana sidecar."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.alerting.conftest import minimal_policy, promtool, proposal_policy
from tests.alerting.test_monitored_alerts import DEGRADED, POLICY as MONITORED
from tests.constructs.stacks import synth_proposal
from tfprod.constructs.alerting import prometheus_rule_groups
from tfprod.constructs.dashboards import dashboard_json, dashboard_uid
from tfprod.policy import Policy
from tfprod.runtime.gateway.metrics import GatewayMetrics, Histogram

__all__ = ["promtool"]  # the fixture this module uses

POLICIES = {"proposal": proposal_policy(), "minimal": minimal_policy(), "monitored": MONITORED}
SERIES_NAME = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")


def loaded(policy: Policy) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(dashboard_json(policy))
    return document


def panels(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in document["panels"] if panel["type"] != "row"]


def expressions(document: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(document) for target in panel["targets"]]


def emitted(policy: Policy) -> set[str]:
    """Series names the gateway exports, the drift detector's score, and the policy's rules."""
    names = {"tfprod_drift_score"}
    for metric in GatewayMetrics().all():
        if isinstance(metric, Histogram):
            names |= {f"{metric.name}_{part}" for part in ("bucket", "sum", "count")}
        else:
            names.add(metric.name)
    for group in prometheus_rule_groups(policy):
        names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_every_query_names_series_the_gateway_or_the_rules_emit(policy: Policy) -> None:
    named = {name for expr in expressions(loaded(policy)) for name in SERIES_NAME.findall(expr)}

    assert named
    assert named - emitted(policy) == set()


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_every_query_selects_the_deployment_in_its_namespace(policy: Policy) -> None:
    for expr in expressions(loaded(policy)):
        assert f'namespace="{policy.namespace}"' in expr, expr
        assert f'deployment="{policy.name}"' in expr or f'model="{policy.name}"' in expr, expr


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_every_datasource_is_the_prometheus_variable(policy: Policy) -> None:
    document = loaded(policy)
    prometheus = {"type": "prometheus", "uid": "$datasource"}

    assert [(v["name"], v["type"], v["query"]) for v in document["templating"]["list"]] == [
        ("datasource", "datasource", "prometheus")
    ]
    for panel in panels(document):
        assert panel["datasource"] == prometheus
        assert [target["datasource"] for target in panel["targets"]] == [prometheus] * len(
            panel["targets"]
        )


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_panel_ids_and_query_ref_ids_are_unique(policy: Policy) -> None:
    document = loaded(policy)
    ids = [panel["id"] for panel in document["panels"]]

    assert ids == list(range(1, len(ids) + 1))
    for panel in panels(document):
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)) and all(refs)


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_the_json_loads_as_the_sdks_model_and_back(policy: Policy) -> None:
    document = loaded(policy)

    model = Dashboard.from_json(document)

    assert json.loads(json.dumps(model, cls=JSONEncoder)) == document
    assert model.uid == dashboard_uid(policy)


def test_panels_for_every_monitored_metric_drift_weights_and_generation() -> None:
    document = loaded(MONITORED)

    assert [(panel["type"], panel["title"]) for panel in document["panels"]] == [
        ("row", "Rollout"),
        ("timeseries", "Traffic weight"),
        ("timeseries", "Status generation"),
        ("row", "Performance"),
        ("timeseries", "Requests per second"),
        ("timeseries", "Error rate"),
        ("timeseries", "Failed attempts by outcome"),
        ("timeseries", "Latency"),
        ("row", "Quality"),
        ("timeseries", "Prediction confidence"),
        ("timeseries", "Non-finite predictions"),
        ("timeseries", "Drift per feature"),
        ("row", "Business"),
        ("timeseries", "Click rate"),
        ("timeseries", "Conversion rate"),
        ("timeseries", "Revenue per request"),
    ]
    drift = panels(document)[8]["targets"][0]
    assert (drift["expr"], drift["legendFormat"]) == (
        'tfprod:drift_score:max{namespace="ml", deployment="fraud"}',
        "{{feature}}",
    )


def test_a_minimal_policy_has_no_quality_or_business_rows() -> None:
    rows = [
        panel["title"] for panel in loaded(minimal_policy())["panels"] if panel["type"] == "row"
    ]

    assert rows == ["Rollout", "Performance"]


def test_latency_panel_shows_the_quantiles_the_policy_names() -> None:
    policy = minimal_policy(monitor={"metrics": ["latency_p99", "prediction_latency"]})

    [latency] = [panel for panel in panels(loaded(policy)) if panel["title"] == "Latency"]

    assert [target["legendFormat"] for target in latency["targets"]] == [
        "{{version}} p95",
        "{{version}} p99",
    ]


def test_uid_fits_grafanas_limit() -> None:
    long = minimal_policy(name="a-very-long-deployment-name-for-fraud")

    assert dashboard_uid(minimal_policy()) == "tfprod-ml-fraud"
    assert len(dashboard_uid(long)) == 40
    assert dashboard_uid(long).startswith("tfprod-")


@pytest.mark.service
@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES)
def test_promtool_accepts_every_panel_query(promtool: str, tmp_path: Path, policy: Policy) -> None:
    """Each query as a recording rule, so promtool parses it as PromQL."""
    exprs = expressions(loaded(policy))
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


def test_the_stack_ships_the_dashboard_in_a_sidecar_config_map(tmp_path: Path) -> None:
    document = synth_proposal(tmp_path / "cdktf.out")

    maps = document["resource"]["kubernetes_config_map_v1"]
    [dashboard] = [m for m in maps.values() if m["metadata"]["name"].endswith("-dashboard")]
    assert dashboard["metadata"]["name"] == "recommendation-engine-dashboard"
    assert dashboard["metadata"]["namespace"] == "ml"
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["labels"]["app.kubernetes.io/component"] == "dashboard"
    [(key, text)] = dashboard["data"].items()
    assert key == "recommendation-engine.json"
    assert "${" not in text
    assert json.loads(text)["uid"] == "tfprod-ml-recommendation-engine"


GENERATION = {
    "series": 'tfprod_gateway_status_generation{namespace="ml", deployment="fraud"}',
    "values": "3x120",
}


def empty_query_alerts(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One alert per panel query, firing when the query returns nothing."""
    return [
        {"alert": f"DashboardQueryEmpty{index}", "expr": f"absent({expr})"}
        for index, expr in enumerate(expressions(document))
    ]


@pytest.mark.service
def test_every_panel_query_returns_data_on_gateway_shaped_series(
    promtool: str, tmp_path: Path
) -> None:
    """The monitored policy's rules and degraded series from the alert cases (every measure
    present), plus the generation gauge as the gateway labels it: no panel query is empty."""
    assert GatewayMetrics().status_generation.label_names == ("deployment",)
    alerts = empty_query_alerts(loaded(MONITORED))
    groups = [*prometheus_rule_groups(MONITORED), {"name": "dashboard", "rules": alerts}]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    case = {
        "interval": "10s",
        "input_series": [*DEGRADED, GENERATION],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": alert["alert"], "exp_alerts": []} for alert in alerts
        ],
    }
    unit_test = {"rule_files": ["rules.yml"], "evaluation_interval": "10s", "tests": [case]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit_test, sort_keys=False))

    result = subprocess.run(
        [promtool, "test", "rules", "test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert len(alerts) == 12
    assert result.returncode == 0, result.stdout + result.stderr
