"""The stack every model deployment lives in: registry, namespace, Kubernetes provider, identity.

Cloud stacks (`tfprod.stacks`) subclass `ModelPlatformStack`: in their constructor they create
or reference the registry storage and call `use_registry`, create the Kubernetes provider for
the cluster they are given and call `use_kubernetes`, and override
`service_account_annotations` (and, where the cloud needs it, `pod_identity_labels`) for their
workload identity.
"""

from __future__ import annotations

from collections.abc import Mapping

from tfprod.bindings._core import Construct, TerraformStack
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.constructs.errors import ConstructError, construct_error
from tfprod.constructs.registry import ModelRegistry
from tfprod.policy.names import DNS_1123_LABEL_RULE, is_dns_label


class ModelPlatformStack(TerraformStack):
    """A Terraform stack hosting model deployments in one Kubernetes namespace.

    Subclasses must call `use_registry` and `use_kubernetes` in their constructor.
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str = "default") -> None:
        """`namespace`: the Kubernetes namespace every workload goes into. Default: "default"."""
        super().__init__(scope, id)
        if not is_dns_label(namespace):
            raise construct_error(
                self, "namespace", f"{namespace!r} is not a DNS-1123 label", DNS_1123_LABEL_RULE
            )
        self.namespace = namespace
        self._tfprod_registry: ModelRegistry | None = None
        self._tfprod_kubernetes: KubernetesProvider | None = None

    def use_registry(self, registry: ModelRegistry) -> ModelRegistry:
        """Make `registry` the one deployments in this stack pull from; returns it."""
        self._tfprod_registry = registry
        return registry

    def use_kubernetes(self, provider: KubernetesProvider) -> KubernetesProvider:
        """Make `provider` the Kubernetes provider of this stack's workloads; returns it."""
        self._tfprod_kubernetes = provider
        return provider

    @property
    def registry(self) -> ModelRegistry:
        """The stack's model registry."""
        if self._tfprod_registry is None:
            raise construct_error(
                self, "registry", "is not set; the platform stack must call use_registry()"
            )
        return self._tfprod_registry

    @property
    def kubernetes_provider(self) -> KubernetesProvider:
        """The Kubernetes provider of the stack's workloads."""
        if self._tfprod_kubernetes is None:
            raise construct_error(
                self,
                "kubernetes_provider",
                "is not set; the platform stack must call use_kubernetes()",
            )
        return self._tfprod_kubernetes

    def service_account_annotations(self, service_account_name: str) -> Mapping[str, str]:
        """Annotations that give `service_account_name` the cloud's workload identity.

        Default: none (a cluster-only stack reaches its registry without one).
        """
        del service_account_name
        return {}

    def pod_identity_labels(self, service_account_name: str) -> Mapping[str, str]:
        """Labels the pods running as `service_account_name` need for workload identity
        (Azure's webhook, for one, only acts on pods labelled `azure.workload.identity/use`).

        Default: none.
        """
        del service_account_name
        return {}


def platform_of(construct: Construct) -> ModelPlatformStack:
    """The platform stack `construct` lives in; ConstructError naming its path otherwise."""
    for scope in reversed(construct.node.scopes):
        if isinstance(scope, ModelPlatformStack):
            return scope
        if isinstance(scope, TerraformStack):
            break
    raise ConstructError(
        f"{construct.node.path}: scope: {type(construct).__name__} must be created inside a"
        " ModelPlatformStack (e.g. AwsModelPlatform, ClusterModelPlatform)"
    )
