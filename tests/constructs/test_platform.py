"""ModelPlatformStack, ModelRegistry and the cluster-only stack."""

from __future__ import annotations

import pytest
from cdktn import TerraformVariable

from tfprod.bindings._core import Construct
from tfprod.constructs import (
    App,
    ConstructError,
    ModelPlatformStack,
    ModelRegistry,
    platform_of,
)
from tfprod.stacks.cluster import ClusterModelPlatform

SCHEMES = "file://, s3://, gs://, az://"


def test_cluster_platform_reads_the_given_kubeconfig_and_context(app: App) -> None:
    stack = ClusterModelPlatform(
        app,
        "onprem",
        registry_uri="file:///srv/models/",
        kubeconfig_path="/etc/kube/config",
        kube_context="prod",
        namespace="ml",
    )
    assert stack.to_terraform()["provider"] == {
        "kubernetes": [{"config_context": "prod", "config_path": "/etc/kube/config"}]
    }
    assert stack.registry.uri == "file:///srv/models"
    assert stack.namespace == "ml"
    assert stack.service_account_annotations("anything") == {}


def test_cluster_platform_defaults_to_the_usual_kubeconfig(app: App) -> None:
    stack = ClusterModelPlatform(app, "dev", registry_uri="s3://models/registry")
    assert stack.to_terraform()["provider"] == {"kubernetes": [{"config_path": "~/.kube/config"}]}
    assert stack.namespace == "default"


def test_model_reference_gives_the_canonical_artifact_uri(
    platform: ClusterModelPlatform,
) -> None:
    assert platform.registry.model("rec").artifact("v2.1.0") == (
        "s3://ml-models/registry/models/rec/versions/v2.1.0"
    )


def test_platform_of_finds_the_stack_from_deep_inside(platform: ClusterModelPlatform) -> None:
    inner = Construct(Construct(platform, "a"), "b")
    assert platform_of(inner) is platform


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "http://models",
            f"ml/registry: uri: 'http://models' is not a registry URI; allowed: {SCHEMES}",
        ),
        ("s3://", f"ml/registry: uri: 's3://' is not a registry URI; allowed: {SCHEMES}"),
        ("models", f"ml/registry: uri: 'models' is not a registry URI; allowed: {SCHEMES}"),
    ],
)
def test_rejects_a_registry_uri_that_is_not_one(app: App, uri: str, message: str) -> None:
    with pytest.raises(ConstructError) as error:
        ClusterModelPlatform(app, "ml", registry_uri=uri)
    assert str(error.value) == message


def test_rejects_a_terraform_reference_as_registry_root(platform: ClusterModelPlatform) -> None:
    bucket = TerraformVariable(platform, "bucket", type="string")
    with pytest.raises(ConstructError) as error:
        ModelRegistry(platform, "other", uri=bucket.string_value)
    assert str(error.value) == (
        "ml/other: uri: is a Terraform reference; the registry root must be a plain string so"
        " the policy file is usable outside Terraform (build it from the bucket name);"
        f" allowed: {SCHEMES}"
    )


def test_rejects_a_namespace_that_is_not_a_dns_label(app: App) -> None:
    with pytest.raises(ConstructError) as error:
        ClusterModelPlatform(app, "ml", registry_uri="s3://m/r", namespace="ML")
    assert str(error.value) == (
        "ml: namespace: 'ML' is not a DNS-1123 label; allowed: 1 to 63 lower-case letters,"
        " digits or '-', starting and ending with a letter or digit"
    )


def test_a_platform_that_forgot_its_registry_says_so(app: App) -> None:
    stack = ModelPlatformStack(app, "bare")
    with pytest.raises(ConstructError) as error:
        _ = stack.registry
    assert str(error.value) == (
        "bare: registry: is not set; the platform stack must call use_registry()"
    )
    with pytest.raises(ConstructError) as error:
        _ = stack.kubernetes_provider
    assert str(error.value) == (
        "bare: kubernetes_provider: is not set; the platform stack must call use_kubernetes()"
    )
