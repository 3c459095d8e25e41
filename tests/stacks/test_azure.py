"""AzureModelPlatform: storage account hardening, federated managed identities, provider wiring."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stacks.conftest import Synth, data, resources, service_account_annotations
from tfprod.bindings._core import App
from tfprod.constructs import ConstructError
from tfprod.stacks import AzureModelPlatform

SUBSCRIPTION = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
IDENTITY = "${azurerm_user_assigned_identity.rec-model-server-identity"
CONTAINER_SCOPE = (
    "${azurerm_storage_account.registry-storage-account.id}/blobServices/default/containers/models"
)


def azure(app: App, **overrides: Any) -> AzureModelPlatform:
    props: dict[str, Any] = {
        "subscription_id": SUBSCRIPTION,
        "resource_group_name": "ml",
        "location": "westeurope",
        "cluster_name": "prod",
        "storage_account_name": "acmemodels",
        "namespace": "ml",
    }
    return AzureModelPlatform(app, "azure", **{**props, **overrides})


def test_registry_is_the_container_prefix_as_a_plain_string() -> None:
    assert azure(App()).registry.uri == "az://acmemodels/models/registry"


def test_storage_account_allows_only_tls12_https_and_entra_id_and_no_public_blobs(
    synth: Synth,
) -> None:
    tf = synth(azure)
    assert resources(tf, "azurerm_storage_account") == {
        "registry-storage-account": {
            "name": "acmemodels",
            "resource_group_name": "ml",
            "location": "westeurope",
            "account_kind": "StorageV2",
            "account_tier": "Standard",
            "account_replication_type": "ZRS",
            "min_tls_version": "TLS1_2",
            "https_traffic_only_enabled": True,
            "allow_nested_items_to_be_public": False,
            "shared_access_key_enabled": False,
            "default_to_oauth_authentication": True,
            "blob_properties": {"versioning_enabled": True},
        }
    }
    assert resources(tf, "azurerm_storage_container") == {
        "registry-container": {
            "name": "models",
            "storage_account_id": "${azurerm_storage_account.registry-storage-account.id}",
            "container_access_type": "private",
        }
    }


def test_model_server_identity_is_federated_with_the_cluster_issuer_for_its_service_account(
    synth: Synth,
) -> None:
    tf = synth(azure)
    assert resources(tf, "azurerm_user_assigned_identity") == {
        "rec-model-server-identity": {
            "name": "prod-ml-rec-model-server",
            "resource_group_name": "ml",
            "location": "westeurope",
        }
    }
    assert resources(tf, "azurerm_federated_identity_credential") == {
        "rec-model-server-federated-credential": {
            "name": "ml-rec-model-server",
            "user_assigned_identity_id": f"{IDENTITY}.id}}",
            "issuer": "${data.azurerm_kubernetes_cluster.cluster.oidc_issuer_url}",
            "subject": "system:serviceaccount:ml:rec-model-server",
            "audience": ["api://AzureADTokenExchange"],
        }
    }
    assert resources(tf, "azurerm_role_assignment") == {
        "rec-model-server-registry-access": {
            "scope": CONTAINER_SCOPE,
            "role_definition_name": "Storage Blob Data Reader",
            "principal_id": f"{IDENTITY}.principal_id}}",
            "principal_type": "ServicePrincipal",
        }
    }
    assert service_account_annotations(tf) == {
        "rec-model-server": {"azure.workload.identity/client-id": f"{IDENTITY}.client_id}}"}
    }


def test_registry_writers_are_blob_data_contributors_on_the_container(synth: Synth) -> None:
    tf = synth(lambda app: azure(app, registry_writers=["trainer"]))
    assignments = resources(tf, "azurerm_role_assignment")
    assert {name: body["role_definition_name"] for name, body in assignments.items()} == {
        "rec-model-server-registry-access": "Storage Blob Data Reader",
        "trainer-registry-access": "Storage Blob Data Contributor",
    }
    assert assignments["trainer-registry-access"]["scope"] == CONTAINER_SCOPE


def test_kubernetes_provider_reads_the_aks_cluster_and_logs_in_with_kubelogin(
    synth: Synth,
) -> None:
    tf = synth(lambda app: azure(app, cluster_resource_group_name="aks"))
    assert data(tf, "azurerm_kubernetes_cluster") == {
        "cluster": {"name": "prod", "resource_group_name": "aks"}
    }
    cluster = "data.azurerm_kubernetes_cluster.cluster"
    assert tf["provider"] == {
        "azurerm": [
            {"features": [{}], "subscription_id": SUBSCRIPTION, "storage_use_azuread": True}
        ],
        "kubernetes": [
            {
                "host": f"${{{cluster}.kube_config[0].host}}",
                "cluster_ca_certificate": (
                    f"${{base64decode({cluster}.kube_config[0].cluster_ca_certificate)}}"
                ),
                "exec": [
                    {
                        "api_version": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--login",
                            "azurecli",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                        ],
                    }
                ],
            }
        ],
    }
    assert tf["terraform"]["required_providers"] == {
        "azurerm": {"source": "azurerm", "version": "5.10.0"},
        "kubernetes": {"source": "hashicorp/kubernetes", "version": "3.4.0"},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "subscription_id",
            "my-subscription",
            "azure: subscription_id: 'my-subscription' is not valid; allowed: a subscription"
            " id, a lower-case GUID",
        ),
        (
            "resource_group_name",
            "ml.",
            "azure: resource_group_name: 'ml.' is not valid; allowed: 1 to 90 letters, digits,"
            " '_', '-', '.', '(' or ')', not ending with '.'",
        ),
        (
            "cluster_name",
            "prod.cluster",
            "azure: cluster_name: 'prod.cluster' is not valid; allowed: 1 to 63 letters,"
            " digits, '_' or '-', starting and ending with a letter or digit",
        ),
        (
            "location",
            "West Europe",
            "azure: location: 'West Europe' is not valid; allowed: an Azure location name such"
            " as 'westeurope'",
        ),
        (
            "storage_account_name",
            "acme-models",
            "azure: storage_account_name: 'acme-models' is not valid; allowed: 3 to 24"
            " lower-case letters or digits",
        ),
        (
            "container_name",
            "ml--models",
            "azure: container_name: 'ml--models' is not valid; allowed: 3 to 63 lower-case"
            " letters, digits or '-', starting and ending with a letter or digit, no '--'",
        ),
    ],
)
def test_bad_props_fail_naming_the_field_and_what_is_allowed(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ConstructError) as caught:
        azure(App(), **{field: value})
    assert str(caught.value) == message


def test_every_pod_is_labelled_for_the_workload_identity_webhook(synth: Synth) -> None:
    tf = synth(azure)
    labels = {
        name: body["spec"]["template"]["metadata"]["labels"].get("azure.workload.identity/use")
        for name, body in resources(tf, "kubernetes_deployment_v1").items()
    }
    assert labels and set(labels.values()) == {"true"}, labels
