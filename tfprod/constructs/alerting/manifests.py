"""The thin construct side: alerting objects as `kubernetes_manifest` resources.

Contract of `add_alerting(scope, policy, *, namespace, labels)` (called once per deployment by
the app's finalization, after the Policy is built):

- adds under `scope`, with ids prefixed by the deployment's name (so `scope` may be the
  deployment or its stack):
  - `<name>-prometheus-rule`: PrometheusRule `<name>-alerts` (monitoring.coreos.com/v1) holding
    `prometheus_rule_groups(policy)`;
  - `<name>-alertmanager-config`, only when the policy's monitor names alert routes:
    AlertmanagerConfig `<name>-alerts` (monitoring.coreos.com/v1alpha1) from
    `alertmanager_config_spec`, secrets as Kubernetes Secret key references;
- adds once per stack (the first call creates it, later calls find it) under the stack:
  `tfprod-gateway-monitor`, ServiceMonitor `tfprod-gateway` scraping port "admin" of the Service
  labelled `app.kubernetes.io/component: gateway` and `app.kubernetes.io/part-of: tfprod` (the
  `Gateway` construct's); and, once a policy watches drift (whose score the controller exports),
  `tfprod-controller-monitor` likewise for the `RuntimeController`'s Service, honouring the
  scraped labels (the drift score's `namespace` and `deployment` are its own);
- every object is in `namespace` (which must be the policy's) and carries `labels` (use them
  for the Prometheus and Alertmanager resources' rule/config/monitor selectors); a
  ServiceMonitor, shared by the stack, gets them with `app.kubernetes.io/name` and `instance`
  naming it instead of the deployment;
- raises `AlertingError` when `namespace` is not the policy's.

Why an AlertmanagerConfig and not a Secret `alertmanager-<name>` with a whole
`alertmanager.yaml`: it is one object per deployment (the finalization adds deployments one at a
time, and no deployment's declaration has to know the others), the operator scopes it to the
namespace and resolves Secret key references itself, so no Secret has to be mounted into the
Alertmanager. `alertmanager_config` renders the same plan as a native file for an Alertmanager
run without the operator; `amtool check-config` checks that rendering in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tfprod.bindings._core import Construct, TerraformStack
from tfprod.bindings.kubernetes.manifest import Manifest
from tfprod.constructs.alerting.monitor import service_monitor
from tfprod.constructs.alerting.rules import prometheus_rule_groups, watches_drift
from tfprod.policy import Policy
from tfprod.policy.alertmanager_config import (
    AlertingError,
    EmailSettings,
    alertmanager_config_spec,
)

SCRAPED_PORTS: Final = {"gateway": "admin", "controller": "http"}
"""Port name of the gateway's and the controller's Services where /metrics is served (the
gateway's admin port, `--admin-port`; the controller's one port)."""


def _metadata(name: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def prometheus_rule_manifest(
    policy: Policy, *, namespace: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The PrometheusRule object holding `policy`'s recording and alerting rules."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _metadata(f"{policy.name}-alerts", namespace, labels),
        "spec": {"groups": prometheus_rule_groups(policy)},
    }


def alertmanager_config_manifest(
    policy: Policy,
    *,
    namespace: str,
    labels: Mapping[str, str],
    email: EmailSettings | None = None,
) -> dict[str, Any] | None:
    """`policy`'s AlertmanagerConfig object, or None when its monitor names no alert routes."""
    if policy.monitor is None or policy.monitor.alerts is None:
        return None
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": _metadata(f"{policy.name}-alerts", namespace, labels),
        "spec": alertmanager_config_spec(policy.name, policy.monitor.alerts, email=email),
    }


def add_alerting(
    scope: Construct,
    policy: Policy,
    *,
    namespace: str,
    labels: Mapping[str, str],
    email: EmailSettings | None = None,
) -> None:
    """Add `policy`'s alerting objects under `scope` (the contract is in the module docstring).

    `email`: SMTP settings for e-mail receivers. Default: none, e-mail uses the Alertmanager's
    global SMTP settings.
    """
    if namespace != policy.namespace:
        raise AlertingError(
            f"{scope.node.path}: namespace {namespace!r} is not the namespace of policy"
            f" {policy.name!r} ({policy.namespace!r}); alert rules select on the policy's"
        )
    rule = prometheus_rule_manifest(policy, namespace=namespace, labels=labels)
    Manifest(scope, f"{policy.name}-prometheus-rule", manifest=rule)
    routing = alertmanager_config_manifest(policy, namespace=namespace, labels=labels, email=email)
    if routing is not None:
        Manifest(scope, f"{policy.name}-alertmanager-config", manifest=routing)
    stack = TerraformStack.of(scope)
    _monitor_once(stack, "gateway", namespace, labels)
    if watches_drift(policy):
        _monitor_once(stack, "controller", namespace, labels)


def _monitor_once(
    stack: TerraformStack, component: str, namespace: str, labels: Mapping[str, str]
) -> None:
    """The stack's ServiceMonitor for the tfprod `component`, unless an earlier call made it."""
    construct_id = f"tfprod-{component}-monitor"
    # Remembered on the stack: one jsii round trip per stack and component, not per call.
    known: set[str] = stack.__dict__.setdefault("_tfprod_monitors", set())
    if construct_id in known or stack.node.try_find_child(construct_id) is not None:
        known.add(construct_id)
        return
    name = f"tfprod-{component}"
    monitor = service_monitor(
        name=name,
        namespace=namespace,
        labels={**labels, "app.kubernetes.io/name": name, "app.kubernetes.io/instance": name},
        selector={"app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "tfprod"},
        port=SCRAPED_PORTS[component],
        honor_labels=component == "controller",
    )
    Manifest(stack, construct_id, manifest=monitor)
    known.add(construct_id)
