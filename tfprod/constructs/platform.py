"""The stack every model deployment lives in: registry, namespace, Kubernetes provider, identity.

Cloud stacks (`tfprod.stacks`) subclass `ModelPlatformStack`: in their constructor they create
or reference the registry storage and call `use_registry`, create the Kubernetes provider for
the cluster they are given and call `use_kubernetes`, and override
`service_account_annotations` (and, where the cloud needs it, `pod_identity_labels`) for their
workload identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tfprod.bindings._core import Construct, TerraformStack
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.constructs.errors import ConstructError, construct_error
from tfprod.constructs.registry import ModelRegistry
from tfprod.policy.names import DNS_1123_LABEL_RULE, is_dns_label

_REPOSITORY = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class ProjectImage:
    """The tfprod image every tfprod container runs (gateway, controller, registry pull).

    Build and push it from the repository's `Dockerfile` (`docker build -t REPO:TAG . &&
    docker push REPO:TAG`), then give `repository` and `tag` (and, to pin exactly what was
    pushed, `digest`) to the stack."""

    repository: str = "ghcr.io/tfprod/tfprod"
    """Image repository, registry host included. Default: "ghcr.io/tfprod/tfprod"."""
    tag: str = "0.1.0"
    """Image tag. Default: "0.1.0" (the project's version)."""
    digest: str | None = None
    """`sha256:<64 hex>` the tag must resolve to; when given the reference pins it
    (`REPO:TAG@sha256:...`). Default: None, the tag alone."""

    @property
    def reference(self) -> str:
        """The image reference containers run."""
        tagged = f"{self.repository}:{self.tag}"
        return tagged if self.digest is None else f"{tagged}@{self.digest}"

    def problem(self) -> tuple[str, str, str] | None:
        """(field, what is wrong, what is allowed) of the first bad field, or None."""
        if not _REPOSITORY.fullmatch(self.repository):
            return (
                "image.repository",
                f"{self.repository!r} is not an image repository",
                "lower-case path components separated by '/', e.g. 'ghcr.io/acme/tfprod'",
            )
        if not _TAG.fullmatch(self.tag):
            return (
                "image.tag",
                f"{self.tag!r} is not an image tag",
                "1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            )
        if self.digest is not None and not _DIGEST.fullmatch(self.digest):
            digest = f"{self.digest!r} is not a digest"
            return ("image.digest", digest, "'sha256:' and 64 hex digits")
        return None


DEFAULT_IMAGE = ProjectImage()
"""The stacks' default `image`: ghcr.io/tfprod/tfprod:0.1.0."""


class ModelPlatformStack(TerraformStack):
    """A Terraform stack hosting model deployments in one Kubernetes namespace.

    Subclasses must call `use_registry` and `use_kubernetes` in their constructor.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "default",
        image: ProjectImage = DEFAULT_IMAGE,
    ) -> None:
        """- `namespace`: the Kubernetes namespace every workload goes into. Default: "default".
        - `image`: the tfprod image of the stack's gateway, controller and registry pulls.
          Default: `ProjectImage()`, "ghcr.io/tfprod/tfprod:0.1.0".
        """
        super().__init__(scope, id)
        if not is_dns_label(namespace):
            raise construct_error(
                self, "namespace", f"{namespace!r} is not a DNS-1123 label", DNS_1123_LABEL_RULE
            )
        problem = image.problem()
        if problem is not None:
            raise construct_error(self, *problem)
        self.namespace = namespace
        self.image = image
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


def platform_of(construct: Construct, scope: Construct | None = None) -> ModelPlatformStack:
    """The platform stack `construct` lives in; ConstructError naming its path otherwise.

    `scope`: the scope `construct` was created with, when the caller has it at hand; when it
    is the platform stack itself the construct tree is not read (two jsii round trips).
    Default: None.
    """
    for near in (construct, scope):
        if isinstance(near, ModelPlatformStack):
            return near
    for outer in reversed(construct.node.scopes):
        if isinstance(outer, ModelPlatformStack):
            return outer
        if isinstance(outer, TerraformStack):
            break
    raise ConstructError(
        f"{construct.node.path}: scope: {type(construct).__name__} must be created inside a"
        " ModelPlatformStack (e.g. AwsModelPlatform, ClusterModelPlatform)"
    )
