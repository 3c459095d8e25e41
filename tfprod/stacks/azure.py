"""`AzureModelPlatform`: model deployments on an AKS cluster, with the registry in Blob Storage.

The stack references the cluster (`data azurerm_kubernetes_cluster`), never creates it; the
Kubernetes provider authenticates with `kubelogin` (Entra ID), as `kubectl` does on AKS with
local accounts disabled. It creates the registry's storage account (TLS 1.2, HTTPS only, no
public blob access, no shared keys: Entra ID only, blob versioning) and a private container,
and, for each Kubernetes service account a workload asks for, a user-assigned managed identity
with a federated credential trusting the cluster's OIDC issuer for exactly
`system:serviceaccount:<namespace>:<name>`, granted "Storage Blob Data Reader" on the container
("Storage Blob Data Contributor" for `registry_writers`). The cluster must have its OIDC issuer
and workload identity enabled, and pods must carry the label
`azure.workload.identity/use: "true"` for the identity to be injected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tfprod.bindings._core import Construct, Fn
from tfprod.bindings.azurerm.data_azurerm_kubernetes_cluster import (
    DataAzurermKubernetesCluster,
)
from tfprod.bindings.azurerm.federated_identity_credential import FederatedIdentityCredential
from tfprod.bindings.azurerm.provider import AzurermProvider
from tfprod.bindings.azurerm.role_assignment import RoleAssignment
from tfprod.bindings.azurerm.storage_account import StorageAccount
from tfprod.bindings.azurerm.storage_container import StorageContainer
from tfprod.bindings.azurerm.user_assigned_identity import UserAssignedIdentity
from tfprod.bindings.kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from tfprod.constructs import ModelPlatformStack, ModelRegistry, ProjectImage
from tfprod.constructs.platform import DEFAULT_IMAGE
from tfprod.stacks._common import (
    REGISTRY_PREFIX,
    bounded_name,
    check_name,
    check_writers,
    service_account_subject,
)

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"
USE_LABEL = "azure.workload.identity/use"
"""The pod label that makes AKS inject the workload identity token ("true")."""
TOKEN_AUDIENCE = "api://AzureADTokenExchange"
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The application id of the AKS Entra ID server, the same in every tenant."""
READER_ROLE = "Storage Blob Data Reader"
WRITER_ROLE = "Storage Blob Data Contributor"
_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")
_ACCOUNT_NAME_RULE = "3 to 24 lower-case letters or digits"
_CONTAINER_NAME = re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]")
_CONTAINER_NAME_RULE = (
    "3 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit, no '--'"
)
_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")
_RESOURCE_GROUP_RULE = "1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'"
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
_CLUSTER_NAME_RULE = (
    "1 to 63 letters, digits, '_' or '-', starting and ending with a letter or digit"
)
_LOCATION = re.compile(r"[a-z0-9]+")
_LOCATION_RULE = "an Azure location name such as 'westeurope'"
_SUBSCRIPTION = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SUBSCRIPTION_RULE = "a subscription id, a lower-case GUID"
_IDENTITY_NAME_LIMIT = 128
_CREDENTIAL_NAME_LIMIT = 120
_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


class AzureModelPlatform(ModelPlatformStack):
    """A platform stack on an existing AKS cluster, with a Blob registry and workload identity."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        subscription_id: str,
        resource_group_name: str,
        location: str,
        cluster_name: str,
        storage_account_name: str,
        namespace: str = "default",
        image: ProjectImage = DEFAULT_IMAGE,
        container_name: str = "models",
        cluster_resource_group_name: str | None = None,
        registry_writers: Sequence[str] = (),
    ) -> None:
        """- `subscription_id`: the Azure subscription of the stack's resources.
        - `resource_group_name`: the existing resource group the storage account and the
          identities go into.
        - `location`: their Azure location, e.g. "westeurope".
        - `cluster_name`: the existing AKS cluster the workloads run on.
        - `storage_account_name`: the storage account this stack creates for the registry.
        - `namespace`: where workloads go. Default: "default".
        - `image`: the tfprod image (repository, tag, optional digest) of the gateway,
          controller and registry pulls. Default: "ghcr.io/tfprod/tfprod:0.1.0".
        - `container_name`: the blob container of the registry; the registry root is
          `az://<storage_account_name>/<container_name>/registry`. Default: "models".
        - `cluster_resource_group_name`: the cluster's resource group. Default: None,
          `resource_group_name`.
        - `registry_writers`: Kubernetes service accounts that may also write registry blobs
          (e.g. a training job pushing versions); their identities are created up front, and
          `service_account_annotations(name)` gives the annotation to put on them.
          Default: none; every identity only reads.
        """
        super().__init__(scope, id, namespace=namespace, image=image)
        check_name(self, "subscription_id", subscription_id, _SUBSCRIPTION, _SUBSCRIPTION_RULE)
        for field, value in (
            ("resource_group_name", resource_group_name),
            ("cluster_resource_group_name", cluster_resource_group_name or resource_group_name),
        ):
            check_name(self, field, value, _RESOURCE_GROUP, _RESOURCE_GROUP_RULE)
        check_name(self, "location", location, _LOCATION, _LOCATION_RULE)
        check_name(self, "cluster_name", cluster_name, _CLUSTER_NAME, _CLUSTER_NAME_RULE)
        check_name(
            self, "storage_account_name", storage_account_name, _ACCOUNT_NAME, _ACCOUNT_NAME_RULE
        )
        check_name(self, "container_name", container_name, _CONTAINER_NAME, _CONTAINER_NAME_RULE)
        self.resource_group_name = resource_group_name
        self.location = location
        self.cluster_name = cluster_name
        self._writers = check_writers(self, registry_writers)
        self._annotations: dict[str, Mapping[str, str]] = {}

        # Without shared keys the provider must reach blob data with Entra ID too.
        AzurermProvider(
            self,
            "azurerm",
            features=[{}],
            subscription_id=subscription_id,
            storage_use_azuread=True,
        )
        self.cluster = DataAzurermKubernetesCluster(
            self,
            "cluster",
            name=cluster_name,
            resource_group_name=cluster_resource_group_name or resource_group_name,
        )
        self.use_kubernetes(
            KubernetesProvider(
                self,
                "kubernetes",
                host=self.cluster.get_string_attribute("kube_config[0].host"),
                cluster_ca_certificate=Fn.base64decode(
                    self.cluster.get_string_attribute("kube_config[0].cluster_ca_certificate")
                ),
                exec=[
                    KubernetesProviderExec(
                        api_version=_EXEC_API_VERSION,
                        command="kubelogin",
                        args=["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID],
                    )
                ],
            )
        )
        self.storage_account = StorageAccount(
            self,
            "registry-storage-account",
            name=storage_account_name,
            resource_group_name=resource_group_name,
            location=location,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type="ZRS",
            min_tls_version="TLS1_2",
            https_traffic_only_enabled=True,
            allow_nested_items_to_be_public=False,
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            blob_properties={"versioning_enabled": True},
        )
        self.container = StorageContainer(
            self,
            "registry-container",
            name=container_name,
            storage_account_id=self.storage_account.id,
            container_access_type="private",
        )
        self.container_scope = (
            f"{self.storage_account.id}/blobServices/default/containers/{container_name}"
        )
        """The container's Azure Resource Manager id: the scope of the role assignments."""
        self.use_registry(
            ModelRegistry(
                self,
                "registry",
                uri=f"az://{storage_account_name}/{container_name}/{REGISTRY_PREFIX}",
            )
        )
        for writer in sorted(self._writers):
            self.service_account_annotations(writer)

    def service_account_annotations(self, service_account_name: str) -> Mapping[str, str]:
        """`azure.workload.identity/client-id` of the managed identity `service_account_name`
        acts as, created (once per name) with read access to the registry container, and
        write access for writers."""
        if service_account_name not in self._annotations:
            identity = self._identity(service_account_name)
            self._annotations[service_account_name] = {CLIENT_ID_ANNOTATION: identity.client_id}
        return self._annotations[service_account_name]

    def pod_identity_labels(self, service_account_name: str) -> Mapping[str, str]:
        """`azure.workload.identity/use: "true"`: Azure's webhook only injects the federated
        token into pods that carry it."""
        del service_account_name
        return {USE_WORKLOAD_IDENTITY_LABEL: "true"}

    def _identity(self, service_account: str) -> UserAssignedIdentity:
        identity = UserAssignedIdentity(
            self,
            f"{service_account}-identity",
            name=bounded_name(
                f"{self.cluster_name}-{self.namespace}-{service_account}", _IDENTITY_NAME_LIMIT
            ),
            resource_group_name=self.resource_group_name,
            location=self.location,
        )
        FederatedIdentityCredential(
            self,
            f"{service_account}-federated-credential",
            name=bounded_name(f"{self.namespace}-{service_account}", _CREDENTIAL_NAME_LIMIT),
            user_assigned_identity_id=identity.id,
            issuer=self.cluster.oidc_issuer_url,
            subject=service_account_subject(self.namespace, service_account),
            audience=[TOKEN_AUDIENCE],
        )
        role = WRITER_ROLE if service_account in self._writers else READER_ROLE
        RoleAssignment(
            self,
            f"{service_account}-registry-access",
            scope=self.container_scope,
            role_definition_name=role,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
        )
        return identity
