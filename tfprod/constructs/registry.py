"""Where model versions live: a registry root URI, and references to models in it."""

from __future__ import annotations

from dataclasses import dataclass

from tfprod.bindings._core import Construct, Token
from tfprod.constructs.errors import construct_error
from tfprod.policy import artifact_uri
from tfprod.policy.versions import ARTIFACT_SCHEMES

_ALLOWED_SCHEMES = ", ".join(f"{scheme}://" for scheme in ARTIFACT_SCHEMES)


@dataclass(frozen=True, kw_only=True)
class ModelRef:
    """A model by name in one registry; `ModelDeployment(model=...)` takes it (or a name)."""

    registry: ModelRegistry
    name: str

    def artifact(self, version: str) -> str:
        """The artifact URI of `version` of this model."""
        return artifact_uri(self.registry.uri, self.name, version)


class ModelRegistry(Construct):
    """The registry that model versions are pulled from.

    `uri` is the registry root: `s3://<bucket>/<prefix>`, `gs://...`, `az://<account>/<container>[/<prefix>]`
    or `file://...`. It must be a plain string, never a Terraform reference: the policy written
    next to the stack holds artifact URIs under it, and local runs read that file as is. Cloud
    stacks build the URI from the bucket name their user gives, and create the bucket.
    """

    def __init__(self, scope: Construct, id: str, *, uri: str) -> None:
        super().__init__(scope, id)
        if Token.is_unresolved(uri):
            raise construct_error(
                self,
                "uri",
                "is a Terraform reference; the registry root must be a plain string so the"
                " policy file is usable outside Terraform (build it from the bucket name)",
                _ALLOWED_SCHEMES,
            )
        scheme, separator, rest = uri.partition("://")
        if not separator or scheme not in ARTIFACT_SCHEMES or not rest.strip("/"):
            raise construct_error(self, "uri", f"{uri!r} is not a registry URI", _ALLOWED_SCHEMES)
        self.uri = uri.rstrip("/")
        """The registry root, without a trailing '/'."""

    def model(self, name: str) -> ModelRef:
        """A reference to model `name` in this registry."""
        return ModelRef(registry=self, name=name)
