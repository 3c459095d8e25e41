"""Small synthesized stacks and policies for the governance tests, built with real bindings.

`build_stack` declares, in stack "shop", a construct "rec" (standing in for a ModelDeployment)
holding one model-server Deployment, optionally an HPA, and whatever `extra` adds; it returns
`stack.to_terraform()`, the document the rules see at synth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfprod.bindings._core import App, Construct, TerraformStack
from tfprod.bindings.kubernetes.deployment_v1 import DeploymentV1
from tfprod.bindings.kubernetes.horizontal_pod_autoscaler_v2 import HorizontalPodAutoscalerV2
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.policy import Policy

DEPLOYMENT_PATH = "shop/rec"
REGISTRY = "s3://rec-models/registry"
SERVING = "tensorflow/serving:2.19.0"
REQUESTS = {"cpu": "500m", "memory": "1Gi"}


def container(
    *, name: str = "serving", image: str = SERVING, requests: dict[str, str] | None = REQUESTS
) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, "image": image}
    if requests is not None:
        result["resources"] = {"requests": requests}
    return result


Extra = Callable[[TerraformStack, Construct], None]


def build_stack(
    tmp_path: Path,
    *,
    replicas: str | None = "2",
    min_replicas: int | None = 2,
    containers: list[dict[str, Any]] | None = None,
    extra: Extra | None = None,
) -> dict[str, Any]:
    """The synthesized document of stack "shop" (see the module docstring).

    `min_replicas=None` leaves the HPA out; `replicas=None` leaves `spec.replicas` unset.
    """
    app = App(outdir=str(tmp_path / "out"))
    stack = TerraformStack(app, "shop")
    KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
    rec = Construct(stack, "rec")
    spec: dict[str, Any] = {
        "selector": {"match_labels": {"app.kubernetes.io/name": "rec"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "rec"}},
            "spec": {"container": containers if containers is not None else [container()]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    deployment = DeploymentV1(
        rec,
        "deployment",
        metadata={"name": "rec-v2-0-0", "namespace": "ml"},
        spec=spec,
    )
    if min_replicas is not None:
        HorizontalPodAutoscalerV2(
            rec,
            "autoscaler",
            metadata={"name": "rec-v2-0-0", "namespace": "ml"},
            spec={
                "min_replicas": min_replicas,
                "max_replicas": 10,
                "scale_target_ref": {
                    "api_version": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment.metadata.name,
                },
            },
        )
    if extra is not None:
        extra(stack, rec)
    document: dict[str, Any] = stack.to_terraform()
    return document


def version(version_id: str, role: str) -> dict[str, str]:
    return {
        "id": version_id,
        "artifact": f"{REGISTRY}/models/rec/versions/{version_id}",
        "role": role,
    }


def policy(**changes: Any) -> Policy:
    """A production policy every rule accepts; `changes` replace top-level fields (None drops)."""
    document: dict[str, Any] = {
        "name": "recommendation-engine",
        "namespace": "ml",
        "environment": "production",
        "model": "rec",
        "versions": [version("rec-v2.0.0", "stable"), version("rec-v2.1.0", "canary")],
        "traffic": {"weights": {"rec-v2.0.0": 95, "rec-v2.1.0": 5}},
        "canary": {
            "version": "rec-v2.1.0",
            "steps": [[5, 60], [50, 60]],
            "success_criteria": {"error_rate": "< 1%", "latency_p95": "< 100ms"},
        },
        "monitor": {"metrics": ["error_rate"], "alerts": {"slack": "#ml-alerts"}},
        "safety": {
            "fallback_version": "rec-v2.0.0",
            "triggers": {"error_rate > 5%": "immediate_rollback"},
        },
    }
    document.update(changes)
    return Policy.model_validate({k: v for k, v in document.items() if v is not None})


def policies(**changes: Any) -> dict[str, Policy]:
    return {DEPLOYMENT_PATH: policy(**changes)}
