"""Oracle: tfprod's azurerm bindings synthesize the same Terraform JSON as the prebuilt
`cdktn-provider-azurerm` (installed by `make test`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import cdktn
import pytest

import tfprod.bindings.azurerm as ours
from tests.bindings.oracle import assert_same_type, generated_types, require_prebuilt, synth

require_prebuilt("cdktn-provider-azurerm")

pytestmark = pytest.mark.slow

GROUP = "ml-prod"


def build(k: SimpleNamespace, stack: cdktn.TerraformStack) -> None:
    k.provider.AzurermProvider(stack, "azurerm", features=[{}], subscription_id="sub-1")
    k.provider.AzurermProvider(
        stack, "azurerm_dr", features=[{}], alias="dr", storage_use_azuread=True
    )
    cluster = k.data_azurerm_kubernetes_cluster.DataAzurermKubernetesCluster(
        stack, "cluster", name="prod", resource_group_name=GROUP
    )
    k.data_azurerm_kubernetes_cluster.DataAzurermKubernetesCluster(
        stack, "other", name="staging", resource_group_name="ml-staging", timeouts={"read": "1m"}
    )
    identity = k.user_assigned_identity.UserAssignedIdentity(
        stack, "serving", name="serving", location="westeurope", resource_group_name=GROUP
    )
    k.user_assigned_identity.UserAssignedIdentity(
        stack,
        "controller",
        name="controller",
        location="westeurope",
        resource_group_name=GROUP,
        tags={"app": "tfprod"},
    )
    account = k.storage_account.StorageAccount(
        stack,
        "models",
        name="mlprodmodels",
        resource_group_name=GROUP,
        location="westeurope",
        account_tier="Standard",
        account_replication_type="ZRS",
        min_tls_version="TLS1_2",
        blob_properties={"versioning_enabled": True},
        tags={"app": "tfprod"},
    )
    k.storage_account.StorageAccount(
        stack,
        "scratch",
        name="mlprodscratch",
        resource_group_name=GROUP,
        location="westeurope",
        account_tier="Standard",
        account_replication_type="LRS",
        shared_access_key_enabled=False,
    )
    k.storage_container.StorageContainer(
        stack, "artifacts", name="artifacts", storage_account_id=account.id
    )
    k.storage_container.StorageContainer(
        stack,
        "profiles",
        name="profiles",
        storage_account_id=account.id,
        container_access_type="private",
        metadata={"owner": "ml"},
    )
    k.federated_identity_credential.FederatedIdentityCredential(
        stack,
        "serving_federation",
        name="serving",
        audience=["api://AzureADTokenExchange"],
        issuer=cluster.oidc_issuer_url,
        subject="system:serviceaccount:models:serving",
        user_assigned_identity_id=identity.id,
    )
    k.federated_identity_credential.FederatedIdentityCredential(
        stack,
        "controller_federation",
        name="controller",
        audience=["api://AzureADTokenExchange"],
        issuer="https://issuer.example",
        subject="system:serviceaccount:models:controller",
        user_assigned_identity_id="/subscriptions/x/identity",
        timeouts={"create": "5m"},
    )
    k.role_assignment.RoleAssignment(
        stack,
        "serving_reads",
        scope=account.id,
        role_definition_name="Storage Blob Data Reader",
        principal_id=identity.principal_id,
    )
    k.role_assignment.RoleAssignment(
        stack,
        "controller_writes",
        scope="/subscriptions/x",
        role_definition_name="Storage Blob Data Contributor",
        principal_id="00000000-0000-0000-0000-000000000000",
        principal_type="ServicePrincipal",
        skip_service_principal_aad_check=True,
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("oracle-azurerm")
    return (
        synth("tfprod.bindings.azurerm", ours.__all__, build, base / "tfprod"),
        synth("cdktn_provider_azurerm", ours.__all__, build, base / "prebuilt"),
    )


@pytest.mark.parametrize(("section", "tf_type"), generated_types("tfprod.bindings.azurerm"))
def test_synthesizes_the_same_json_as_the_prebuilt_provider(
    both: tuple[dict[str, Any], dict[str, Any]], section: str, tf_type: str
) -> None:
    assert_same_type(both, section, tf_type)


def test_provider_blocks_match(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    mine, prebuilt = both
    assert mine["provider"] == prebuilt["provider"]
    assert mine["terraform"]["required_providers"] == prebuilt["terraform"]["required_providers"]
