"""The Kubernetes workloads of one model version: tensorflow/serving fed from the registry.

Every version of a `ModelDeployment` gets the same shape: a Deployment whose init container
(the project image) pulls the version from the registry into an emptyDir, and whose main
container is the pinned `tensorflow/serving` image serving it on 8500 (gRPC) and 8501 (REST);
a Service; an HPA v2 when the deployment autoscales (and then `ignore_changes` on the
Deployment's replicas, so Terraform never fights the autoscaler); and a PodDisruptionBudget
when at least two replicas run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.deployment_v1 import DeploymentV1
from tfprod.bindings.kubernetes.horizontal_pod_autoscaler_v2 import HorizontalPodAutoscalerV2
from tfprod.bindings.kubernetes.pod_disruption_budget_v1 import PodDisruptionBudgetV1
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.bindings.kubernetes.service_v1 import ServiceV1
from tfprod.constructs._names import DEPLOYMENT_LABEL, ROLE_LABEL, labels, selector
from tfprod.constructs.metrics_adapter import REQUESTS_PER_SECOND_METRIC

GRPC_PORT = 8500
REST_PORT = 8501
MODELS_DIR = "/models"
RUN_AS_USER = "10001"
RUN_AS_GROUP = "10001"
"""Every tfprod pod runs as the project image's user and group (the Dockerfile's `USER
10001:10001`; tests/test_dockerfile.py ties the two). The stock tensorflow/serving image declares
no user (it would run as root) and needs none: it only reads the model directory and listens on
8500/8501, so its container runs as this user too, in the group (`fs_group`) that owns the
emptyDir the init container fills."""
REPLICAS_PATH = "spec[0].replicas"


@dataclass(frozen=True, kw_only=True)
class AutoScaling:
    """How a deployment's versions scale (an HPA v2 per version).

    Each version scales on its own share of traffic between `min_replicas` and `max_replicas`.
    """

    min_replicas: int = 2
    """Fewest replicas per version. Default: 2 (production needs at least 2)."""
    max_replicas: int = 10
    """Most replicas per version. Default: 10."""
    target_cpu_percent: int | None = 70
    """Average CPU use, in percent of the request, the HPA aims at. Default: 70; None: CPU is
    not a scaling signal."""
    target_requests_per_second: float | None = None
    """Average requests per second per replica the HPA aims at: the External metric
    `tfprod_requests_per_second` (the gateway's request rate to this version, served by
    prometheus-adapter from the rules `MetricsAdapterRules` ships), divided by the version's
    replicas. Default: None, requests are not a scaling signal."""


@dataclass(frozen=True, kw_only=True)
class ServingResources:
    """CPU and memory of each model server container (Kubernetes quantities)."""

    cpu: str = "500m"
    """CPU request. Default: "500m"."""
    memory: str = "1Gi"
    """Memory request. Default: "1Gi"."""
    cpu_limit: str = "2"
    """CPU limit. Default: "2"."""
    memory_limit: str = "2Gi"
    """Memory limit. Default: "2Gi"."""

    def spec(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True, kw_only=True)
class VersionWorkload:
    """Everything `ServingVersion` needs to know about one version of a deployment."""

    deployment: str
    """Deployment name (the `app.kubernetes.io/name` label)."""
    k8s_name: str
    """Name of this version's Deployment, Service, HPA and PDB."""
    namespace: str
    model: str
    version: str
    role: str
    registry: str
    """Registry root URI the init container pulls from."""
    service_account: str
    serving_image: str
    tfprod_image: str
    resources: ServingResources
    scaling: AutoScaling | None
    replicas: int
    """Replicas when `scaling` is None."""
    identity_labels: Mapping[str, str]
    """Extra pod labels the platform's workload identity needs."""


_INIT_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
_CONTAINER_SECURITY = {
    "allow_privilege_escalation": False,
    "run_as_non_root": True,
    "run_as_user": RUN_AS_USER,
    "capabilities": {"drop": ["ALL"]},
}


class ServingVersion(Construct):
    """The workloads of one version (see the module docstring)."""

    def __init__(
        self, scope: Construct, id: str, *, workload: VersionWorkload, provider: KubernetesProvider
    ) -> None:
        super().__init__(scope, id)
        self.workload = workload
        w = workload
        common = labels(
            name=w.deployment, instance=w.k8s_name, component="model-server", version=w.version
        )
        pod_labels = {**common, DEPLOYMENT_LABEL: w.deployment, ROLE_LABEL: w.role}
        metadata = {"name": w.k8s_name, "namespace": w.namespace, "labels": pod_labels}
        match = selector(w.deployment, w.k8s_name)
        minimum = w.scaling.min_replicas if w.scaling is not None else w.replicas
        self.deployment = DeploymentV1(
            self,
            "deployment",
            metadata=metadata,
            spec={
                "replicas": str(minimum),
                "selector": {"match_labels": match},
                "template": {
                    "metadata": {"labels": {**pod_labels, **w.identity_labels}},
                    "spec": _pod_spec(w),
                },
            },
            lifecycle={"ignore_changes": [REPLICAS_PATH]} if w.scaling is not None else None,
            provider=provider,
        )
        self.service = ServiceV1(
            self,
            "service",
            metadata=metadata,
            spec={
                "selector": match,
                "port": [
                    {"name": "grpc", "port": GRPC_PORT, "target_port": "grpc"},
                    {"name": "http", "port": REST_PORT, "target_port": "http"},
                ],
            },
            provider=provider,
        )
        self.autoscaler = (
            HorizontalPodAutoscalerV2(
                self,
                "autoscaler",
                metadata=metadata,
                spec=_autoscaler_spec(w.k8s_name, w.deployment, w.version, w.scaling),
                provider=provider,
            )
            if w.scaling is not None
            else None
        )
        self.disruption_budget = (
            PodDisruptionBudgetV1(
                self,
                "disruption-budget",
                metadata=metadata,
                spec={"min_available": "1", "selector": {"match_labels": match}},
                provider=provider,
            )
            if minimum >= 2
            else None
        )

    @property
    def url(self) -> str:
        """The REST base URL of this version inside the cluster."""
        w = self.workload
        return f"http://{w.k8s_name}.{w.namespace}.svc:{REST_PORT}"


def _pod_spec(w: VersionWorkload) -> dict[str, Any]:
    model_path = f"{MODELS_DIR}/{w.model}"
    probe = {
        "http_get": {"path": f"/v1/models/{w.model}", "port": "http"},
        "period_seconds": 10,
        "timeout_seconds": 5,
    }
    return {
        "service_account_name": w.service_account,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": RUN_AS_USER,
            "run_as_group": RUN_AS_GROUP,
            "fs_group": RUN_AS_GROUP,
        },
        "init_container": [
            {
                "name": "pull-model",
                "image": w.tfprod_image,
                "args": [
                    "registry",
                    "pull",
                    w.model,
                    w.version,
                    "--registry",
                    w.registry,
                    "--out",
                    MODELS_DIR,
                ],
                "resources": _INIT_RESOURCES,
                "security_context": _CONTAINER_SECURITY,
                "volume_mount": [{"name": "models", "mount_path": MODELS_DIR}],
            }
        ],
        "container": [
            {
                "name": "serving",
                "image": w.serving_image,
                "args": [
                    f"--port={GRPC_PORT}",
                    f"--rest_api_port={REST_PORT}",
                    f"--model_name={w.model}",
                    f"--model_base_path={model_path}",
                ],
                "port": [
                    {"name": "grpc", "container_port": GRPC_PORT},
                    {"name": "http", "container_port": REST_PORT},
                ],
                "readiness_probe": {**probe, "initial_delay_seconds": 5},
                "liveness_probe": {**probe, "initial_delay_seconds": 30, "failure_threshold": 3},
                "resources": w.resources.spec(),
                "security_context": _CONTAINER_SECURITY,
                "volume_mount": [{"name": "models", "mount_path": MODELS_DIR, "read_only": True}],
            }
        ],
        "volume": [{"name": "models", "empty_dir": {}}],
    }


_QUANTITY_SUFFIXES = ("m", "", "k", "M", "G", "T", "P", "E")


def _quantity(value: float) -> str:
    """`value`, to the thousandth, as the API server writes a decimal quantity back ("1k" for
    1000, "2500m" for 2.5): any other spelling is a diff at every plan after an apply."""
    scaled, suffix = round(value * 1000), 0
    if scaled == 0:
        return "0"
    while scaled % 1000 == 0 and suffix < len(_QUANTITY_SUFFIXES) - 1:
        scaled, suffix = scaled // 1000, suffix + 1
    return f"{scaled}{_QUANTITY_SUFFIXES[suffix]}"


def _autoscaler_spec(
    name: str, deployment: str, version: str, scaling: AutoScaling
) -> dict[str, Any]:
    """The HPA of Deployment `name`, serving `version` of `deployment`; the request metric is
    selected by the gateway's labels for that version (see `metrics_adapter`)."""
    metrics: list[dict[str, Any]] = []
    if scaling.target_cpu_percent is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "average_utilization": scaling.target_cpu_percent,
                    },
                },
            }
        )
    if scaling.target_requests_per_second is not None:
        metrics.append(
            {
                "type": "External",
                "external": {
                    "metric": {
                        "name": REQUESTS_PER_SECOND_METRIC,
                        "selector": [{"match_labels": {"model": deployment, "variant": version}}],
                    },
                    "target": {
                        "type": "AverageValue",
                        "average_value": _quantity(scaling.target_requests_per_second),
                    },
                },
            }
        )
    return {
        "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": name},
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "metric": metrics,
    }
