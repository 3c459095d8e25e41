"""Alerting for tfprod deployments: Prometheus rules, the gateway's ServiceMonitor, Alertmanager
routing (pure builders), and `add_alerting`, which puts them into `kubernetes_manifest`s."""

from tfprod.constructs.alerting.manifests import (
    add_alerting,
    alertmanager_config_manifest,
    prometheus_rule_manifest,
)
from tfprod.constructs.alerting.monitor import service_monitor
from tfprod.constructs.alerting.rules import metrics_named, prometheus_rule_groups
from tfprod.policy.alertmanager_config import (
    AlertingError,
    EmailSettings,
    alertmanager_config,
    alertmanager_config_spec,
)

__all__ = [
    "AlertingError",
    "EmailSettings",
    "add_alerting",
    "alertmanager_config",
    "alertmanager_config_manifest",
    "alertmanager_config_spec",
    "metrics_named",
    "prometheus_rule_groups",
    "prometheus_rule_manifest",
    "service_monitor",
]
