"""add_alerting on a plain cdktn stack: the kubernetes_manifest resources it adds, and that no
generated artifact holds a secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerting.conftest import minimal_policy, proposal_policy
from tfprod.bindings._core import App, TerraformStack
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.cli._app import main
from tfprod.constructs.alerting import (
    AlertingError,
    EmailSettings,
    add_alerting,
    alertmanager_config,
    prometheus_rule_groups,
)
from tfprod.policy import Policy

LABELS = {"app.kubernetes.io/part-of": "tfprod", "release": "prometheus"}


def stack_with(*policies: Policy, outdir: Path) -> tuple[App, TerraformStack]:
    """A stack with `policies`' alerting; `App` creates `outdir` at once, so give a tmp path."""
    app = App(outdir=str(outdir))
    stack = TerraformStack(app, "platform")
    KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
    for policy in policies:
        add_alerting(stack, policy, namespace=policy.namespace, labels=LABELS)
    return app, stack


def manifests(stack: TerraformStack) -> dict[str, Any]:
    resources: dict[str, Any] = stack.to_terraform()["resource"]["kubernetes_manifest"]
    return {name: resource["manifest"] for name, resource in resources.items()}


def test_adds_rules_routing_and_one_gateway_monitor_per_stack(tmp_path: Path) -> None:
    _, stack = stack_with(proposal_policy(), minimal_policy(), outdir=tmp_path)

    assert sorted(manifests(stack)) == [
        "fraud-prometheus-rule",
        "recommendation-engine-alertmanager-config",
        "recommendation-engine-prometheus-rule",
        "tfprod-controller-monitor",
        "tfprod-gateway-monitor",
    ]


def test_prometheus_rule_holds_the_policys_groups(tmp_path: Path) -> None:
    policy = proposal_policy()
    _, stack = stack_with(policy, outdir=tmp_path)

    rule = manifests(stack)["recommendation-engine-prometheus-rule"]

    assert rule == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "recommendation-engine-alerts", "namespace": "ml", "labels": LABELS},
        "spec": {"groups": prometheus_rule_groups(policy)},
    }


def test_alertmanager_config_is_namespaced_and_named_for_the_deployment(tmp_path: Path) -> None:
    _, stack = stack_with(proposal_policy(), outdir=tmp_path)

    routing = manifests(stack)["recommendation-engine-alertmanager-config"]

    assert routing["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert routing["kind"] == "AlertmanagerConfig"
    assert routing["metadata"] == {
        "name": "recommendation-engine-alerts",
        "namespace": "ml",
        "labels": LABELS,
    }
    assert [receiver["name"] for receiver in routing["spec"]["receivers"]] == [
        "recommendation-engine",
        "recommendation-engine-page",
    ]


def test_gateway_monitor_scrapes_the_gateway_service_port(tmp_path: Path) -> None:
    _, stack = stack_with(minimal_policy(), outdir=tmp_path)

    assert manifests(stack)["tfprod-gateway-monitor"] == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": "tfprod-gateway",
            "namespace": "ml",
            "labels": {
                **LABELS,
                "app.kubernetes.io/name": "tfprod-gateway",
                "app.kubernetes.io/instance": "tfprod-gateway",
            },
        },
        "spec": {
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/component": "gateway",
                    "app.kubernetes.io/part-of": "tfprod",
                }
            },
            "namespaceSelector": {"matchNames": ["ml"]},
            "endpoints": [{"port": "admin", "path": "/metrics", "interval": "15s"}],
        },
    }


def test_controller_is_scraped_only_once_a_policy_watches_drift(tmp_path: Path) -> None:
    _, without = stack_with(minimal_policy(), outdir=tmp_path / "a")
    _, with_drift = stack_with(proposal_policy(), outdir=tmp_path / "b")

    monitor = manifests(with_drift)["tfprod-controller-monitor"]
    assert "tfprod-controller-monitor" not in manifests(without)
    assert monitor["metadata"]["name"] == "tfprod-controller"
    assert monitor["spec"]["selector"] == {
        "matchLabels": {
            "app.kubernetes.io/component": "controller",
            "app.kubernetes.io/part-of": "tfprod",
        }
    }
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "honorLabels": True}
    ]


def test_refuses_a_namespace_other_than_the_policys(tmp_path: Path) -> None:
    _, stack = stack_with(outdir=tmp_path)

    with pytest.raises(AlertingError) as error:
        add_alerting(stack, minimal_policy(), namespace="default", labels=LABELS)

    assert str(error.value) == (
        "platform: namespace 'default' is not the namespace of policy 'fraud' ('ml'); alert"
        " rules select on the policy's"
    )


def test_synthesized_stack_passes_tfprod_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = stack_with(proposal_policy(), minimal_policy(), outdir=tmp_path / "cdktf.out")
    app.synth()

    code = main(["validate", str(tmp_path / "cdktf.out")])

    output = capsys.readouterr().out
    assert code == 0, output
    assert "1 stack (platform) valid against" in output


# What a leaked secret looks like in an artifact.
SECRET_PATTERNS = {
    "Slack webhook URL": re.compile(r"hooks\.slack\.com"),
    "Slack token": re.compile(r"xox[abp]-"),
    "32-hex key": re.compile(r"\b[0-9a-fA-F]{32}\b"),
    "URL with credentials": re.compile(r"[a-z]+://[^/\s\"'@]+:[^/\s\"'@]+@"),
    "password value": re.compile(r"(?i)(^|[\s\"{,])(smtp_)?(auth_)?password\"?\s*:"),
}


def secrets_in(text: str) -> list[str]:
    return sorted(name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text))


def test_secret_scan_catches_each_kind_of_literal() -> None:
    leaked = (
        '{"url": "https://hooks.slack.com/services/T/B/x", "token": "xoxb-1",'
        ' "key": "0123456789abcdef0123456789abcdef", "smtp": "smtp://u:p@host:25",'
        ' "password": "hunter2"}'
    )

    assert secrets_in(leaked) == sorted(SECRET_PATTERNS)


def test_no_generated_artifact_holds_a_secret(tmp_path: Path) -> None:
    policies = (proposal_policy(), minimal_policy())
    app, _ = stack_with(*policies, outdir=tmp_path / "cdktf.out")
    app.synth()
    email = EmailSettings(
        smarthost="smtp.example.com:587", sender="alerts@example.com", username="alerts"
    )
    routes = {p.name: p.monitor.alerts for p in policies if p.monitor and p.monitor.alerts}
    artifacts = {
        str(path.relative_to(tmp_path)): path.read_text()
        for path in sorted((tmp_path / "cdktf.out").rglob("*.json"))
    }
    artifacts["alertmanager.yml"] = yaml.safe_dump(alertmanager_config(routes, email=email))
    artifacts["rules.yml"] = yaml.safe_dump(
        {"groups": [group for p in policies for group in prometheus_rule_groups(p)]}
    )

    assert any("kubernetes_manifest" in text for text in artifacts.values())
    assert {name: secrets_in(text) for name, text in artifacts.items()} == {
        name: [] for name in artifacts
    }
