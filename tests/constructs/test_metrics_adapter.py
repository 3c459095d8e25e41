"""MetricsAdapterRules: the prometheus-adapter rule serving the HPAs' requests-per-second metric."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.constructs.stacks import by_name, synthesized
from tfprod.constructs import (
    App,
    AutoScaling,
    ConstructError,
    MetricsAdapterRules,
    ModelDeployment,
    adapter_rules,
)
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.stacks.cluster import ClusterModelPlatform

EXPECTED_RULE = {
    "seriesQuery": 'tfprod_gateway_requests_total{namespace!="",model!="",variant!=""}',
    "resources": {"overrides": {"namespace": {"resource": "namespace"}}},
    "name": {"matches": "^tfprod_gateway_requests_total$", "as": "tfprod_requests_per_second"},
    "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
}


def rules_config_maps(outdir: Path) -> dict[str, dict[str, object]]:
    return {
        name: resource
        for name, resource in by_name(synthesized(outdir, "ml"), "kubernetes_config_map_v1").items()
        if name.startswith("tfprod-adapter-rules")
    }


def test_a_stack_scaling_on_requests_ships_the_adapter_rule_in_the_adapters_namespace(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    app.synth()
    (resource,) = rules_config_maps(outdir).values()
    assert resource["metadata"]["name"] == "tfprod-adapter-rules-ml"  # type: ignore[index]
    assert resource["metadata"]["namespace"] == "monitoring"  # type: ignore[index]
    config = yaml.safe_load(resource["data"]["config.yaml"])  # type: ignore[index]
    assert config == {"externalRules": [EXPECTED_RULE]} == adapter_rules()


def test_a_stack_scaling_on_cpu_only_ships_no_adapter_rule(
    app: App, platform: ClusterModelPlatform, outdir: Path
) -> None:
    ModelDeployment(
        platform, "rec", name="rec", model="rec", version="rec-v1", environment="staging",
        scaling=AutoScaling(target_cpu_percent=60),
    )  # fmt: skip
    app.synth()
    assert rules_config_maps(outdir) == {}


def test_a_declared_adapter_namespace_is_used_and_no_second_rule_is_added(
    app: App, platform: ClusterModelPlatform, deployment: ModelDeployment, outdir: Path
) -> None:
    MetricsAdapterRules(platform, namespace="observability")
    app.synth()
    (resource,) = rules_config_maps(outdir).values()
    assert resource["metadata"]["namespace"] == "observability"  # type: ignore[index]


def test_a_bad_adapter_namespace_names_the_field(platform: ClusterModelPlatform) -> None:
    with pytest.raises(ConstructError) as error:
        MetricsAdapterRules(platform, namespace="Monitoring")
    assert str(error.value) == (
        "ml/metrics-adapter-rules: namespace: 'Monitoring' is not a DNS-1123 label;"
        " allowed: 1 to 63 lower-case letters, digits or '-', starting and ending with a"
        " letter or digit"
    )


def test_the_rules_series_is_one_the_gateway_serves_with_the_selected_labels() -> None:
    metrics = GatewayMetrics()
    metrics.requests.inc(("rec", "rec-v1", "200", ""))
    (family,) = [
        family
        for family in text_string_to_metric_families(metrics.render())
        if family.name == "tfprod_gateway_requests"
    ]
    (sample,) = family.samples
    assert sample.name == "tfprod_gateway_requests_total"
    assert {"model": "rec", "variant": "rec-v1"}.items() <= sample.labels.items()
