"""The explainer in a cluster: a ModelDebugger adds the stack's Explainer (Deployment, Service,
NetworkPolicy) and gives the gateway its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate

from tests.constructs.stacks import by_name, synthesized
from tests.kubernetes_objects import KUBERNETES_VERSION, to_manifest
from tfprod.cli._app import build_parser
from tfprod.constructs import App, Explainer, ModelDebugger, ModelDeployment
from tfprod.stacks.cluster import ClusterModelPlatform

URL = "http://tfprod-explainer.ml.svc:8082"


def synth(outdir: Path, *, debugged: bool, image: str | None = None) -> dict[str, Any]:
    app = App(outdir=str(outdir))
    platform = ClusterModelPlatform(app, "ml", registry_uri="s3://ml/registry", namespace="ml")
    deployment = ModelDeployment(
        platform, "rec", name="rec", model="rec", version="rec-v1", environment="staging"
    )
    if debugged:
        ModelDebugger(deployment, "debugger", capture_rate=0.01, features=["attention_maps"])
    if image is not None:
        Explainer(platform, image=image)
    app.synth()
    return synthesized(outdir, "ml")


def test_a_model_debugger_adds_the_explainer_deployment_running_tfprod_explainer(
    tmp_path: Path,
) -> None:
    document = synth(tmp_path / "out", debugged=True)

    pod = by_name(document, "kubernetes_deployment_v1")["tfprod-explainer"]["spec"]["template"]
    (container,) = pod["spec"]["container"]
    assert container["args"] == [
        "explainer", "--policies", "/etc/tfprod/policies", "--models-dir", "/models",
        "--host", "0.0.0.0", "--port", "8082",
    ]  # fmt: skip
    assert build_parser().parse_args(container["args"]).command == "explainer"
    assert container["image"] == "ghcr.io/tfprod/tfprod:0.1.0-explain"
    assert container["port"] == [{"container_port": 8082, "name": "http"}]
    assert container["volume_mount"] == [
        {"mount_path": "/etc/tfprod/policies/rec", "name": "policy-rec", "read_only": True},
        {"mount_path": "/models", "name": "models"},
    ]
    assert pod["spec"]["volume"][-1] == {"empty_dir": {}, "name": "models"}
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    assert container["security_context"]["read_only_root_filesystem"] is True
    service = by_name(document, "kubernetes_service_v1")["tfprod-explainer"]["spec"]
    assert service["port"] == [{"name": "http", "port": 8082, "target_port": "http"}]


def test_the_gateway_forwards_to_the_explainer_service(tmp_path: Path) -> None:
    document = synth(tmp_path / "out", debugged=True)

    gateway = by_name(document, "kubernetes_deployment_v1")["tfprod-gateway"]
    args = gateway["spec"]["template"]["spec"]["container"][0]["args"]
    assert args[-2:] == ["--explainer-url", URL]
    assert build_parser().parse_args(args).explainer_url == URL


def test_only_gateway_pods_reach_the_explainer(tmp_path: Path) -> None:
    document = synth(tmp_path / "out", debugged=True)

    policy = by_name(document, "kubernetes_network_policy_v1")["tfprod-explainer"]
    assert policy["spec"] == {
        "pod_selector": {
            "match_labels": {
                "app.kubernetes.io/component": "explainer",
                "app.kubernetes.io/part-of": "tfprod",
            }
        },
        "policy_types": ["Ingress"],
        "ingress": [
            {
                "ports": [{"port": "8082", "protocol": "TCP"}],
                "from": [
                    {
                        "pod_selector": {
                            "match_labels": {
                                "app.kubernetes.io/component": "gateway",
                                "app.kubernetes.io/part-of": "tfprod",
                            }
                        }
                    }
                ],
            }
        ],
    }
    labels = by_name(document, "kubernetes_deployment_v1")["tfprod-explainer"]["spec"]["template"][
        "metadata"
    ]["labels"]
    assert policy["spec"]["pod_selector"]["match_labels"].items() <= labels.items()


def test_the_explainer_objects_pass_kubernetes_validate(tmp_path: Path) -> None:
    document = synth(tmp_path / "out", debugged=True)

    for tf_type in (
        "kubernetes_deployment_v1", "kubernetes_service_v1", "kubernetes_network_policy_v1",
        "kubernetes_role_v1", "kubernetes_service_account_v1",
    ):  # fmt: skip
        resource = by_name(document, tf_type)["tfprod-explainer"]
        kubernetes_validate.validate(
            to_manifest(tf_type, resource), KUBERNETES_VERSION, strict=True
        )


def test_a_stack_without_a_model_debugger_has_no_explainer(tmp_path: Path) -> None:
    document = synth(tmp_path / "out", debugged=False)

    assert "tfprod-explainer" not in by_name(document, "kubernetes_deployment_v1")
    assert "tfprod-explainer" not in by_name(document, "kubernetes_network_policy_v1")
    gateway = by_name(document, "kubernetes_deployment_v1")["tfprod-gateway"]
    assert "--explainer-url" not in gateway["spec"]["template"]["spec"]["container"][0]["args"]


def test_a_declared_explainer_is_used_with_its_image(tmp_path: Path) -> None:
    document = synth(tmp_path / "out", debugged=True, image="registry.example.com/explain:1")

    pod = by_name(document, "kubernetes_deployment_v1")["tfprod-explainer"]["spec"]["template"]
    assert pod["spec"]["container"][0]["image"] == "registry.example.com/explain:1"
