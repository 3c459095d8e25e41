"""NetworkBoundaries: the stack's NetworkPolicies, selectors and ports exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate

from tests.constructs.stacks import by_name, synthesized
from tests.kubernetes_objects import KUBERNETES_VERSION, to_manifest
from tfprod.constructs import App, ModelDeployment, NetworkBoundaries, PeerSelector
from tfprod.stacks.cluster import ClusterModelPlatform


def tfprod(component: str) -> dict[str, Any]:
    return {
        "match_labels": {
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": "tfprod",
        }
    }


def monitoring(name: str) -> dict[str, Any]:
    return {
        "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "monitoring"}},
        "pod_selector": {"match_labels": {"app.kubernetes.io/name": name}},
    }


def tcp(port: int) -> dict[str, str]:
    return {"port": str(port), "protocol": "TCP"}


def policies(outdir: Path) -> dict[str, dict[str, Any]]:
    return by_name(synthesized(outdir, "ml"), "kubernetes_network_policy_v1")


def test_only_the_gateway_reaches_model_servers_and_only_its_peers_the_admin_and_api_ports(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    app.synth()
    found = policies(outdir)
    assert {name: found[name]["spec"] for name in found} == {
        "tfprod-model-servers": {
            "pod_selector": tfprod("model-server"),
            "policy_types": ["Ingress"],
            "ingress": [
                {"ports": [tcp(8500), tcp(8501)], "from": [{"pod_selector": tfprod("gateway")}]}
            ],
        },
        "tfprod-gateway": {
            "pod_selector": tfprod("gateway"),
            "policy_types": ["Ingress"],
            "ingress": [
                {"ports": [tcp(8080)]},
                {
                    "ports": [tcp(9090)],
                    "from": [{"pod_selector": tfprod("controller")}, monitoring("prometheus")],
                },
            ],
        },
        "tfprod-controller": {
            "pod_selector": tfprod("controller"),
            "policy_types": ["Ingress"],
            "ingress": [
                {
                    "ports": [tcp(8081)],
                    "from": [
                        {"pod_selector": tfprod("gateway")},
                        monitoring("grafana"),
                        monitoring("prometheus"),
                    ],
                }
            ],
        },
    }
    assert {policy["metadata"]["namespace"] for policy in found.values()} == {"ml"}


def test_the_selected_labels_are_the_ones_the_pods_carry_and_the_ports_the_ones_they_open(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    app.synth()
    document = synthesized(outdir, "ml")
    workloads = by_name(document, "kubernetes_deployment_v1")
    for name, policy in policies(outdir).items():
        selected = policy["spec"]["pod_selector"]["match_labels"]
        matching = [
            workload
            for workload in workloads.values()
            if selected.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matching, name
        for workload in matching:
            opened = {
                str(port["container_port"])
                for container in workload["spec"]["template"]["spec"]["container"]
                for port in container.get("port", [])
            }
            allowed = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
            assert allowed == opened, name


def test_prometheus_and_the_dashboard_are_settings(
    app: App, platform: ClusterModelPlatform, deployment: ModelDeployment, outdir: Path
) -> None:
    NetworkBoundaries(
        platform,
        prometheus=PeerSelector(
            namespace_labels={"team": "observability"}, pod_labels={"app": "prom"}
        ),
        dashboard=PeerSelector(pod_labels={"app": "tfprod-dashboard"}),
    )
    app.synth()
    controller = policies(outdir)["tfprod-controller"]["spec"]["ingress"][0]["from"]
    assert controller[1:] == [
        {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "monitoring"}},
            "pod_selector": {"match_labels": {"app": "tfprod-dashboard"}},
        },
        {
            "namespace_selector": {"match_labels": {"team": "observability"}},
            "pod_selector": {"match_labels": {"app": "prom"}},
        },
    ]


def test_every_network_policy_passes_kubernetes_validate(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    app.synth()
    resources = synthesized(outdir, "ml")["resource"]["kubernetes_network_policy_v1"]
    manifests = [
        to_manifest("kubernetes_network_policy_v1", resource) for resource in resources.values()
    ]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    ports = {
        port["port"]
        for manifest in manifests
        for rule in manifest["spec"]["ingress"]
        for port in rule["ports"]
    }
    assert ports == {8500, 8501, 8080, 9090, 8081}  # sent as integers, as the provider does
