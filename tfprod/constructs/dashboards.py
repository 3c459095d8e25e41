"""A Grafana dashboard per deployment, built with grafana-foundation-sdk and shipped as a
ConfigMap that the Grafana sidecar (kube-prometheus-stack's `sidecar.dashboards`) loads.

`dashboard_model(policy)` is the pure part: the dashboard as the SDK's model, every panel
reading the Prometheus data source chosen by the dashboard's `datasource` variable. Rows:

- Rollout: each version's traffic weight and the status document generation the gateway
  replicas serve (the controller's phase is in the status ConfigMap, not in a series);
- Performance: requests per second, error rate and failed attempts by outcome, latency
  quantiles (p95 and every quantile the policy names);
- Quality: prediction confidence and non-finite predictions when monitored, drift per feature
  when the policy watches drift;
- Business: one panel per monitored business metric (click rate, conversion, revenue per
  request).

Panels read the recording rules of `tfprod.constructs.alerting` (`tfprod:*` series, which carry
`namespace`, `deployment` and `version`) and, where no rule records them, the gateway's own
series. `DeploymentDashboard` puts the dashboard into ConfigMap `<name>-dashboard` in the
deployment's namespace with the label `grafana_dashboard: "1"`; the sidecar must search that
namespace (`sidecar.dashboards.searchNamespace`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from grafana_foundation_sdk.builders import dashboard as dashboards, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard, DataSourceRef

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.config_map_v1 import ConfigMapV1
from tfprod.constructs._names import DEPLOYMENT_LABEL, labels
from tfprod.constructs.alerting.rules import WINDOW, metrics_named, watches_drift
from tfprod.constructs.deployment import ModelDeployment
from tfprod.policy import Policy
from tfprod.policy.observe import FEEDBACK_MEANS, FEEDBACK_RATES

SIDECAR_LABEL: Final = {"grafana_dashboard": "1"}
"""The label kube-prometheus-stack's Grafana sidecar looks for on dashboard ConfigMaps."""
DATASOURCE_VARIABLE: Final = "datasource"
DATASOURCE: Final = DataSourceRef(type_val="prometheus", uid=f"${DATASOURCE_VARIABLE}")
"""Every panel's data source: the Prometheus one picked by the `datasource` variable (written
`$datasource`, not `${datasource}`, which Terraform would read as an interpolation)."""
MAX_UID_LENGTH: Final = 40
_QUANTILES: Final = ("latency_p50", "latency_p90", "latency_p95", "latency_p99")


def dashboard_uid(policy: Policy) -> str:
    """`tfprod-<namespace>-<name>`, or a hash of it past Grafana's 40-character limit."""
    readable = f"tfprod-{policy.namespace}-{policy.name}"
    if len(readable) <= MAX_UID_LENGTH:
        return readable
    return "tfprod-" + hashlib.sha256(readable.encode()).hexdigest()[: MAX_UID_LENGTH - 7]


@dataclass(frozen=True, kw_only=True)
class _Panel:
    title: str
    description: str
    unit: str
    queries: tuple[tuple[str, str], ...]
    """(PromQL, legend) per query."""


def _mine(policy: Policy, series: str) -> str:
    return f'{series}{{namespace="{policy.namespace}", deployment="{policy.name}"}}'


def _gateway(policy: Policy, series: str, extra: str = "") -> str:
    return f'{series}{{namespace="{policy.namespace}", model="{policy.name}"{extra}}}'


def _by_version(policy: Policy, series: str) -> tuple[tuple[str, str], ...]:
    return ((_mine(policy, series), "{{version}}"),)


def _rollout(policy: Policy) -> Iterator[_Panel]:
    yield _Panel(
        title="Traffic weight",
        description="Share of the deployment's traffic each version is routed.",
        unit="percentunit",
        queries=_by_version(policy, "tfprod:traffic_weight:ratio"),
    )
    generation = (
        f'tfprod_gateway_status_generation{{namespace="{policy.namespace}",'
        f' deployment="{policy.name}"}}'
    )
    yield _Panel(
        title="Status generation",
        description="Generation of the status document each gateway replica serves"
        " (0: declared weights); a replica behind the others has not followed a change.",
        unit="none",
        queries=((generation, "{{instance}}"),),
    )


def _performance(policy: Policy, named: set[str]) -> Iterator[_Panel]:
    yield _Panel(
        title="Requests per second",
        description="Attempts per second on each version (throughput).",
        unit="reqps",
        queries=_by_version(policy, "tfprod:requests:rate5m"),
    )
    yield _Panel(
        title="Error rate",
        description="Share of each version's attempts answered with a 5xx.",
        unit="percentunit",
        queries=_by_version(policy, "tfprod:error_rate:ratio_rate5m"),
    )
    failed = _gateway(policy, "tfprod_gateway_requests_total", ', outcome=~"fell_back|failed"')
    yield _Panel(
        title="Failed attempts by outcome",
        description="Failed attempts per second: fell_back (the fallback answered) or failed"
        " (the caller got the failure).",
        unit="reqps",
        queries=(
            (
                f"sum by (variant, outcome) (rate({failed}[{WINDOW}]))",
                "{{variant}} {{outcome}}",
            ),
        ),
    )
    quantiles = [q for q in _QUANTILES if q == "latency_p95" or q in named]
    yield _Panel(
        title="Latency",
        description="Latency quantiles of each version's attempts, over "
        f"{WINDOW}: {', '.join(q.removeprefix('latency_') for q in quantiles)}.",
        unit="s",
        queries=tuple(
            (
                _mine(policy, f"tfprod:{q}:seconds5m"),
                f"{{{{version}}}} {q.removeprefix('latency_')}",
            )
            for q in quantiles
        ),
    )


def _quality(policy: Policy, named: set[str]) -> Iterator[_Panel]:
    if "prediction_confidence" in named:
        yield _Panel(
            title="Prediction confidence",
            description="Mean top-class probability of each version's predictions.",
            unit="percentunit",
            queries=_by_version(policy, "tfprod:prediction_confidence:mean5m"),
        )
    if "nonfinite_predictions" in named:
        yield _Panel(
            title="Non-finite predictions",
            description="Prediction rows per second holding NaN or an infinity.",
            unit="short",
            queries=_by_version(policy, "tfprod:nonfinite_predictions:rate5m"),
        )
    if watches_drift(policy):
        yield _Panel(
            title="Drift per feature",
            description="Drift score of each input feature against the reference profile.",
            unit="none",
            queries=((_mine(policy, "tfprod:drift_score:max"), "{{feature}}"),),
        )


def _business(policy: Policy, named: set[str]) -> Iterator[_Panel]:
    for metric, event in FEEDBACK_RATES.items():
        if metric in named:
            yield _Panel(
                title=metric.replace("_", " ").capitalize(),
                description=f"Share of each version's answered requests followed by a {event}"
                " feedback event.",
                unit="percentunit",
                queries=_by_version(policy, f"tfprod:{metric}:ratio_rate5m"),
            )
    for metric, event in FEEDBACK_MEANS.items():
        if metric in named:
            yield _Panel(
                title=metric.replace("_", " ").capitalize(),
                description=f"Sum of {event} feedback values per answered request.",
                unit="none",
                queries=_by_version(policy, f"tfprod:{metric}:mean5m"),
            )


def _rows(policy: Policy) -> Iterator[tuple[str, list[_Panel]]]:
    named = metrics_named(policy)
    yield "Rollout", list(_rollout(policy))
    yield "Performance", list(_performance(policy, named))
    yield "Quality", list(_quality(policy, named))
    yield "Business", list(_business(policy, named))


def dashboard_model(policy: Policy) -> Dashboard:
    """`policy`'s dashboard as the SDK's model (rows without panels are left out)."""
    builder = (
        dashboards.Dashboard(f"tfprod {policy.namespace}/{policy.name}")
        .uid(dashboard_uid(policy))
        .tags(["tfprod", policy.namespace, policy.name])
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(
            dashboards.DatasourceVariable(DATASOURCE_VARIABLE)
            .label("Prometheus")
            .type("prometheus")
        )
    )
    panel_id = 0
    for title, panels in _rows(policy):
        if not panels:
            continue
        panel_id += 1
        builder = builder.with_row(dashboards.Row(title).id(panel_id))
        for panel in panels:
            panel_id += 1
            built = (
                timeseries.Panel()
                .id(panel_id)
                .title(panel.title)
                .description(panel.description)
                .datasource(DATASOURCE)
                .unit(panel.unit)
                .height(8)
                .span(12)
            )
            for index, (expression, legend) in enumerate(panel.queries):
                built = built.with_target(
                    prometheus.Dataquery()
                    .ref_id(chr(ord("A") + index))
                    .datasource(DATASOURCE)
                    .expr(expression)
                    .legend_format(legend)
                )
            builder = builder.with_panel(built)
    return builder.build()


def dashboard_json(policy: Policy) -> str:
    """The dashboard's JSON, as Grafana and its sidecar read it."""
    return json.dumps(dashboard_model(policy), cls=JSONEncoder, indent=2, sort_keys=True)


def dashboard_configmap_name(name: str) -> str:
    return f"{name}-dashboard"


class DeploymentDashboard(Construct):
    """The deployment's Grafana dashboard in ConfigMap `<name>-dashboard` (key `<name>.json`),
    labelled for the Grafana sidecar.

    Scope: the `ModelDeployment`.
    """

    def __init__(self, scope: ModelDeployment, id: str, *, policy: Policy) -> None:
        super().__init__(scope, id)
        self.json = dashboard_json(policy)
        ConfigMapV1(
            self,
            "config-map",
            metadata={
                "name": dashboard_configmap_name(policy.name),
                "namespace": policy.namespace,
                "labels": {
                    **labels(name=policy.name, instance=policy.name, component="dashboard"),
                    DEPLOYMENT_LABEL: policy.name,
                    **SIDECAR_LABEL,
                },
            },
            data={f"{policy.name}.json": self.json},
            provider=scope.platform.kubernetes_provider,
        )
