"""The platform stack of one example on one cloud: the same workloads, a different cloud.

Every example declares its models in a `ModelPlatformStack` this module creates, so the
declarations never mention a cloud. The accounts, clusters and names below are the examples'
own (fictitious) ones; a team using tfprod passes its own to the stack classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tfprod.constructs import Construct, ModelPlatformStack
from tfprod.stacks import (
    AwsModelPlatform,
    AzureModelPlatform,
    ClusterModelPlatform,
    GcpModelPlatform,
)

CLOUDS = ("aws", "gcp", "azure")
LOCAL = "local"
"""Not a cloud: the local platform of `make demo`, with the registry URI given in the app's
context under `LOCAL_REGISTRY_CONTEXT`."""
LOCAL_REGISTRY_CONTEXT = "tfprod:local-registry"
AZURE_SUBSCRIPTION = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


@dataclass(frozen=True, kw_only=True)
class Team:
    """Who owns an example's platform: its stack name prefix, namespace and storage names."""

    stack: str
    """Prefix of the stack ids: `<stack>-aws`, `<stack>-gcp`, `<stack>-azure`."""
    namespace: str
    """Kubernetes namespace of the team's workloads."""
    bucket: str
    """S3 and GCS bucket of the team's registry."""
    storage_account: str
    """Azure storage account of the team's registry (3 to 24 letters or digits)."""


def platform(scope: Construct, team: Team, cloud: str) -> ModelPlatformStack:
    """`team`'s platform stack on `cloud` ("aws", "gcp", "azure" or "local")."""
    stack_id = f"{team.stack}-{cloud}"
    if cloud == LOCAL:
        registry = scope.node.try_get_context(LOCAL_REGISTRY_CONTEXT)
        if not isinstance(registry, str):
            raise ValueError(f"cloud 'local' needs the app context {LOCAL_REGISTRY_CONTEXT!r}")
        return ClusterModelPlatform(
            scope, stack_id, registry_uri=registry, namespace=team.namespace
        )
    if cloud == "aws":
        return AwsModelPlatform(
            scope,
            stack_id,
            region="eu-west-1",
            cluster_name="ml-prod",
            registry_bucket=team.bucket,
            namespace=team.namespace,
        )
    if cloud == "gcp":
        return GcpModelPlatform(
            scope,
            stack_id,
            project="acme-ml-prod",
            location="europe-west1",
            cluster_name="ml-prod",
            registry_bucket=team.bucket,
            namespace=team.namespace,
        )
    if cloud == "azure":
        return AzureModelPlatform(
            scope,
            stack_id,
            subscription_id=AZURE_SUBSCRIPTION,
            resource_group_name="ml-prod",
            location="westeurope",
            cluster_name="ml-prod",
            storage_account_name=team.storage_account,
            container_name=team.bucket,
            namespace=team.namespace,
        )
    allowed = ", ".join((*CLOUDS, LOCAL))
    raise ValueError(f"cloud: {cloud!r} is not supported; allowed: {allowed}")
