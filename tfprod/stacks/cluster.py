"""`ClusterModelPlatform`: model deployments on a cluster you bring, with a registry you have.

No cloud resources: the Kubernetes provider reads a kubeconfig file (and context), and the
registry is an existing URI. For on-premises clusters, kind/minikube, or a cloud account
managed elsewhere.
"""

from __future__ import annotations

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.constructs import ModelPlatformStack, ModelRegistry, ProjectImage
from tfprod.constructs.platform import DEFAULT_IMAGE


class ClusterModelPlatform(ModelPlatformStack):
    """A platform stack on an existing cluster and registry."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry_uri: str,
        kubeconfig_path: str = "~/.kube/config",
        kube_context: str | None = None,
        namespace: str = "default",
        image: ProjectImage = DEFAULT_IMAGE,
    ) -> None:
        """- `registry_uri`: the registry root, e.g. "s3://ml-models/registry" (a plain string).
        - `kubeconfig_path`: the kubeconfig Terraform reads. Default: "~/.kube/config".
        - `kube_context`: the kubeconfig context to use. Default: None, its current context.
        - `namespace`: where workloads go. Default: "default".
        - `image`: the tfprod image (repository, tag, optional digest) of the gateway,
          controller and registry pulls. Default: "ghcr.io/tfprod/tfprod:0.1.0".
        """
        super().__init__(scope, id, namespace=namespace, image=image)
        self.use_kubernetes(
            KubernetesProvider(
                self, "kubernetes", config_path=kubeconfig_path, config_context=kube_context
            )
        )
        self.use_registry(ModelRegistry(self, "registry", uri=registry_uri))
