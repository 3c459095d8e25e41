"""`ModelRegistry`: the proposal's registry, on the session's registry (`$TFPROD_HOME/registry`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tfprod.production.models import model_source, register_source
from tfprod.production.session import current


class ModelRegistry:
    """`register(model=..., metadata=...)` with automatic versioning."""

    def __init__(self, uri: str | None = None) -> None:
        """`uri`: a registry URI. Default: the session's, `file://$TFPROD_HOME/registry`."""
        self.uri = uri or current().registry_uri

    def register(
        self,
        *,
        model: Any,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        version: str | None = None,
        reference_data: Any = None,
    ) -> str:
        """Registers `model` under `name` (default: the model's own name, mapped by
        `dns_name`) at `version` (default: the next free one; the version these weights
        already have if they are registered). Returns the version."""
        from tfprod.policy import dns_name
        from tfprod.runtime.registry import Registry

        source = model_source(model, call="register", argument="model")
        return register_source(
            Registry.open(self.uri),
            source,
            name=dns_name(name) if name else source.own_name,
            version=version,
            metadata=metadata,
            reference_data=reference_data,
        )

    def versions(self, name: str) -> list[str]:
        """The registered versions of `name`, oldest first."""
        from tfprod.runtime.registry import Registry

        return [item.version for item in Registry.open(self.uri).versions(name)]
