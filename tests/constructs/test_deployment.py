"""ModelDeployment and AutoScaling: the per-version workloads, field by field, and bad input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.constructs.stacks import by_name
from tfprod.constructs import (
    App,
    AutoScaling,
    ConstructError,
    ModelDeployment,
    ServingResources,
    ShadowTest,
)
from tfprod.stacks.cluster import ClusterModelPlatform

LABELS = {
    "app.kubernetes.io/name": "rec",
    "app.kubernetes.io/instance": "rec-rec-v1",
    "app.kubernetes.io/version": "rec-v1",
    "app.kubernetes.io/component": "model-server",
    "app.kubernetes.io/part-of": "tfprod",
    "app.kubernetes.io/managed-by": "terraform",
    "tfprod.dev/deployment": "rec",
    "tfprod.dev/role": "stable",
}
SELECTOR = {"app.kubernetes.io/name": "rec", "app.kubernetes.io/instance": "rec-rec-v1"}


def _terraform(platform: ClusterModelPlatform) -> dict[str, Any]:
    document: dict[str, Any] = platform.to_terraform()
    return document


def _deployment_v1(platform: ClusterModelPlatform, name: str) -> dict[str, Any]:
    return by_name(_terraform(platform), "kubernetes_deployment_v1")[name]


def test_stable_version_runs_tensorflow_serving_fed_by_a_registry_pull(
    deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    resource = _deployment_v1(platform, "rec-rec-v1")
    assert resource["metadata"] == {"name": "rec-rec-v1", "namespace": "ml", "labels": LABELS}
    spec = resource["spec"]
    assert spec["selector"] == {"match_labels": SELECTOR}
    assert spec["template"]["metadata"] == {"labels": LABELS}
    pod = spec["template"]["spec"]
    assert pod["service_account_name"] == "rec-model-server"
    assert pod["security_context"] == {
        "fs_group": "10001",
        "run_as_group": "10001",
        "run_as_non_root": True,
        "run_as_user": "10001",
    }
    assert pod["volume"] == [{"empty_dir": {}, "name": "models"}]
    (pull,) = pod["init_container"]
    assert pull["image"] == "ghcr.io/tfprod/tfprod:0.1.0"
    assert pull["args"] == [
        "registry",
        "pull",
        "rec",
        "rec-v1",
        "--registry",
        "s3://ml-models/registry",
        "--out",
        "/models",
    ]
    assert pull["volume_mount"] == [{"mount_path": "/models", "name": "models"}]
    (serving,) = pod["container"]
    assert serving["image"] == "tensorflow/serving:2.19.0"
    assert serving["args"] == [
        "--port=8500",
        "--rest_api_port=8501",
        "--model_name=rec",
        "--model_base_path=/models/rec",
    ]
    assert serving["port"] == [
        {"container_port": 8500, "name": "grpc"},
        {"container_port": 8501, "name": "http"},
    ]
    probe = {"path": "/v1/models/rec", "port": "http"}
    assert serving["readiness_probe"]["http_get"] == probe
    assert serving["liveness_probe"]["http_get"] == probe
    assert serving["resources"] == {
        "limits": {"cpu": "2", "memory": "2Gi"},
        "requests": {"cpu": "500m", "memory": "1Gi"},
    }
    for container in (pull, serving):
        assert container["security_context"] == {
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"]},
            "run_as_non_root": True,
            "run_as_user": "10001",
        }
    assert serving["volume_mount"] == [
        {"mount_path": "/models", "name": "models", "read_only": True}
    ]


def test_autoscaled_version_gets_an_hpa_on_cpu_and_requests_and_terraform_ignores_replicas(
    platform: ClusterModelPlatform,
) -> None:
    ModelDeployment(
        platform,
        "rec",
        name="rec",
        model="rec",
        version="rec-v1",
        environment="production",
        scaling=AutoScaling(
            min_replicas=2, max_replicas=20, target_cpu_percent=70, target_requests_per_second=1000
        ),
    )
    document = _terraform(platform)
    deployment = by_name(document, "kubernetes_deployment_v1")["rec-rec-v1"]
    assert deployment["spec"]["replicas"] == "2"
    assert deployment["lifecycle"] == {"ignore_changes": ["spec[0].replicas"]}
    hpa = by_name(document, "kubernetes_horizontal_pod_autoscaler_v2")["rec-rec-v1"]
    assert hpa["spec"] == {
        "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": "rec-rec-v1"},
        "min_replicas": 2,
        "max_replicas": 20,
        "metric": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "average_utilization": 70},
                },
            },
            {
                "type": "External",
                "external": {
                    "metric": {
                        "name": "tfprod_requests_per_second",
                        "selector": [{"match_labels": {"model": "rec", "variant": "rec-v1"}}],
                    },
                    "target": {"type": "AverageValue", "average_value": "1k"},
                },
            },
        ],
    }


def test_fixed_replicas_have_no_hpa_and_terraform_owns_replicas(
    platform: ClusterModelPlatform,
) -> None:
    ModelDeployment(
        platform, "rec", name="rec", model="rec", version="rec-v1", environment="dev", replicas=3
    )
    document = _terraform(platform)
    deployment = by_name(document, "kubernetes_deployment_v1")["rec-rec-v1"]
    assert deployment["spec"]["replicas"] == "3"
    assert "lifecycle" not in deployment
    assert "kubernetes_horizontal_pod_autoscaler_v2" not in document["resource"]


def test_service_exposes_grpc_and_rest_of_the_version(
    deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    service = by_name(_terraform(platform), "kubernetes_service_v1")["rec-rec-v1"]
    assert service["spec"] == {
        "selector": SELECTOR,
        "port": [
            {"name": "grpc", "port": 8500, "target_port": "grpc"},
            {"name": "http", "port": 8501, "target_port": "http"},
        ],
    }
    assert deployment.versions["rec-v1"].url == "http://rec-rec-v1.ml.svc:8501"


def test_disruption_budget_keeps_one_pod_when_two_or_more_run(
    deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    budget = by_name(_terraform(platform), "kubernetes_pod_disruption_budget_v1")["rec-rec-v1"]
    assert budget["spec"] == {"min_available": "1", "selector": {"match_labels": SELECTOR}}


def test_single_replica_gets_no_disruption_budget(platform: ClusterModelPlatform) -> None:
    ModelDeployment(
        platform, "rec", name="rec", model="rec", version="rec-v1", environment="dev", replicas=1
    )
    assert "kubernetes_pod_disruption_budget_v1" not in _terraform(platform)["resource"]


def test_resources_and_images_are_overridable(platform: ClusterModelPlatform) -> None:
    ModelDeployment(
        platform,
        "rec",
        name="rec",
        model="rec",
        version="rec-v1",
        environment="dev",
        resources=ServingResources(cpu="1", memory="4Gi", cpu_limit="4", memory_limit="8Gi"),
        serving_image="registry.example.com/tensorflow/serving:2.19.0-gpu",
        tfprod_image="registry.example.com/tfprod:0.1.0",
    )
    pod = _deployment_v1(platform, "rec-rec-v1")["spec"]["template"]["spec"]
    assert pod["container"][0]["image"] == "registry.example.com/tensorflow/serving:2.19.0-gpu"
    assert pod["container"][0]["resources"] == {
        "limits": {"cpu": "4", "memory": "8Gi"},
        "requests": {"cpu": "1", "memory": "4Gi"},
    }
    assert pod["init_container"][0]["image"] == "registry.example.com/tfprod:0.1.0"


class _IdentityPlatform(ClusterModelPlatform):
    def service_account_annotations(self, service_account_name: str) -> Mapping[str, str]:
        return {"example.com/identity": f"{self.namespace}/{service_account_name}"}

    def pod_identity_labels(self, service_account_name: str) -> Mapping[str, str]:
        return {"example.com/use-identity": service_account_name}


def test_service_account_and_pods_carry_the_platforms_workload_identity(app: App) -> None:
    platform = _IdentityPlatform(app, "ml", registry_uri="gs://models/registry", namespace="ml")
    ModelDeployment(platform, "rec", name="rec", model="rec", version="rec-v1", environment="dev")
    document = platform.to_terraform()
    account = by_name(document, "kubernetes_service_account_v1")["rec-model-server"]
    assert account["metadata"]["annotations"] == {"example.com/identity": "ml/rec-model-server"}
    assert account["metadata"]["namespace"] == "ml"
    spec = by_name(document, "kubernetes_deployment_v1")["rec-rec-v1"]["spec"]
    assert spec["template"]["metadata"]["labels"] == {
        **LABELS,
        "example.com/use-identity": "rec-model-server",
    }
    assert spec["selector"] == {"match_labels": SELECTOR}


def test_model_reference_from_another_registry_sets_the_pull_source(
    platform: ClusterModelPlatform,
) -> None:
    from tfprod.constructs import ModelRegistry

    other = ModelRegistry(platform, "shared", uri="gs://shared-models/registry/")
    deployment = ModelDeployment(
        platform, "rec", name="rec", model=other.model("rec"), version="v1", environment="dev"
    )
    args = _deployment_v1(platform, "rec-v1")["spec"]["template"]["spec"]["init_container"][0]
    assert args["args"][5] == "gs://shared-models/registry"
    assert (
        deployment.policy().stable.artifact == "gs://shared-models/registry/models/rec/versions/v1"
    )


@pytest.mark.parametrize(
    ("scaling", "message"),
    [
        (
            AutoScaling(min_replicas=0),
            "ml/rec: scaling.min_replicas: 0 is below 1; allowed: a whole number from 1 up",
        ),
        (
            AutoScaling(min_replicas=5, max_replicas=3),
            "ml/rec: scaling.max_replicas: 3 is below min_replicas (5);"
            " allowed: a whole number from min_replicas up",
        ),
        (
            AutoScaling(target_cpu_percent=150),
            "ml/rec: scaling.target_cpu_percent: 150 is out of range; allowed: 1 to 100, or None",
        ),
        (
            AutoScaling(target_requests_per_second=-1),
            "ml/rec: scaling.target_requests_per_second: -1 is not above 0;"
            " allowed: a number above 0, or None",
        ),
        (
            AutoScaling(target_cpu_percent=None),
            "ml/rec: scaling.target_cpu_percent: no scaling target: both target_cpu_percent and"
            " target_requests_per_second are None; allowed: set at least one of them",
        ),
    ],
)
def test_rejects_bad_scaling_numbers(
    platform: ClusterModelPlatform, scaling: AutoScaling, message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        ModelDeployment(
            platform,
            "rec",
            name="rec",
            model="rec",
            version="v1",
            environment="dev",
            scaling=scaling,
        )
    assert str(error.value) == message


DNS_RULE = (
    "a DNS-1035 label: 1 to 63 lower-case letters, digits or '-', starting with a letter and"
    " ending with a letter or digit"
)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"name": "9rec"}, f"ml/rec: name: '9rec' is not valid; allowed: {DNS_RULE}"),
        (
            {"name": "Rec Engine"},
            f"ml/rec: name: 'Rec Engine' (as 'rec engine') is not valid; allowed: {DNS_RULE}",
        ),
        ({"model": "rec_model"}, f"ml/rec: model: 'rec_model' is not valid; allowed: {DNS_RULE}"),
        (
            {"environment": "Production"},
            "ml/rec: environment: 'Production' is not a DNS-1123 label; allowed: 1 to 63"
            " lower-case letters, digits or '-', starting and ending with a letter or digit",
        ),
        (
            {"replicas": 0},
            "ml/rec: replicas: 0 is below 1; allowed: a whole number from 1 up",
        ),
        (
            {"version": "bad version"},
            "ml/rec: version: version id 'bad version' is not a version id: use 1 to 63 letters,"
            " digits, '.', '_' or '-', starting with a letter or digit",
        ),
        (
            {"version": "v" + "1" * 59},
            f"ml/rec: version: {'v' + '1' * 59!r} makes the Kubernetes name"
            f" {'rec-v' + '1' * 59!r} 64 characters long; allowed: deployment name and version"
            " id of at most 62 characters together",
        ),
    ],
)
def test_rejects_bad_deployment_props(
    platform: ClusterModelPlatform, props: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {
        "name": "rec",
        "model": "rec",
        "version": "v1",
        "environment": "dev",
        **props,
    }
    with pytest.raises(ConstructError) as error:
        ModelDeployment(platform, "rec", **arguments)
    assert str(error.value) == message


def test_rejects_versions_that_share_a_kubernetes_name(deployment: ModelDeployment) -> None:
    with pytest.raises(ConstructError) as error:
        ShadowTest(deployment, "shadow", candidate="rec_v1")
    assert str(error.value) == (
        "ml/rec/shadow: candidate: 'rec_v1' and 'rec-v1' both become 'rec-rec-v1';"
        " allowed: version ids that differ after lower-casing and replacing '.' and '_' by '-'"
    )


def test_deployment_outside_a_platform_stack_names_its_path(app: App) -> None:
    from tfprod.bindings._core import TerraformStack

    stack = TerraformStack(app, "plain")
    with pytest.raises(ConstructError) as error:
        ModelDeployment(stack, "rec", name="rec", model="rec", version="v1", environment="dev")
    assert str(error.value) == (
        "plain/rec: scope: ModelDeployment must be created inside a ModelPlatformStack"
        " (e.g. AwsModelPlatform, ClusterModelPlatform)"
    )


def test_a_python_style_deployment_name_is_mapped_to_its_kubernetes_name(
    platform: ClusterModelPlatform,
) -> None:
    deployment = ModelDeployment(
        platform, "engine", name="recommendation_engine", model="rec", version="v1",
        environment="dev",
    )  # fmt: skip
    assert deployment.name == "recommendation-engine"
    assert deployment.service_account_name == "recommendation-engine-model-server"
