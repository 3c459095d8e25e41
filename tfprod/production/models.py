"""Models as the proposal passes them: a Keras model, or the path of a SavedModel directory.

A model is registered on first use: under a name (the deployment's model, or the model's own
name mapped by `tfprod.policy.names.dns_name`), at the version given or else the next free one
(`v1`, `v2`, ...). Each registered version records the sha256 of its weights in its metadata
(`weights_sha256`), so the same weights are never registered twice under one name: using them
again finds the version they already have.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfprod.policy import dns_name
from tfprod.production.errors import ProductionError, argument_error

WEIGHTS_KEY = "weights_sha256"
"""Metadata key of each registered version: the sha256 of the model's weights."""
ALLOWED_MODELS = "a Keras model, or the path of a SavedModel directory"
_log = logging.getLogger("tfprod.production")


@dataclass(frozen=True, kw_only=True)
class ModelSource:
    """A model given to a call: what to export, its own name and its weights' digest."""

    model: Any
    """The Keras model, or the SavedModel directory's `Path`."""
    own_name: str
    digest: str


def is_model(value: object) -> bool:
    """Whether `value` is a Keras model or a SavedModel directory's path."""
    if isinstance(value, str | Path):
        return (Path(value) / "saved_model.pb").is_file()
    return _is_keras(value)


def model_source(value: object, *, call: str, argument: str) -> ModelSource:
    """The model `value` stands for; a ProductionError naming `argument` of `call` otherwise."""
    if isinstance(value, str | Path) and (Path(value) / "saved_model.pb").is_file():
        path = Path(value).resolve()
        return ModelSource(model=path, own_name=dns_name(path.name), digest=_directory_digest(path))
    if _is_keras(value):
        return ModelSource(
            model=value,
            own_name=dns_name(str(getattr(value, "name", "model"))),
            digest=_keras_digest(value),
        )
    shown = repr(value) if isinstance(value, str | Path) else type(value).__name__
    raise argument_error(call, argument, f"is {shown}, not a model", ALLOWED_MODELS)


def register_source(
    registry: Any,
    source: ModelSource,
    *,
    name: str,
    version: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    reference_data: Any = None,
) -> str:
    """The version of `name` holding `source`'s weights: found, or registered now."""
    from tfprod.runtime.registry import NoRegistryError

    try:
        known = registry.versions(name)
    except NoRegistryError:
        known = []
    for existing in known:
        if existing.metadata.get(WEIGHTS_KEY) == source.digest:
            if version is not None and version != existing.version:
                _log.info(
                    "%s: these weights are already version %s; not registered again as %s",
                    name,
                    existing.version,
                    version,
                )
            return str(existing.version)
    taken = {existing.version for existing in known}
    if version is not None and version in taken:
        raise ProductionError(
            f"version {version!r} of model {name!r} is already registered with other weights;"
            f" give another version, or leave version out for the next free one"
        )
    chosen = version or _next_free(taken)
    with tempfile.TemporaryDirectory(prefix="tfprod-export-") as scratch:
        directory = source.model if isinstance(source.model, Path) else Path(scratch) / "model"
        if not isinstance(source.model, Path):
            source.model.export(str(directory), verbose=False)
        registry.register(
            directory,
            name=name,
            version=chosen,
            metadata={**dict(metadata or {}), WEIGHTS_KEY: source.digest},
            reference_data=reference_data,
        )
    _log.info("registered %s version %s in %s", name, chosen, registry.uri)
    return chosen


def _next_free(taken: set[str]) -> str:
    number = len(taken) + 1
    while f"v{number}" in taken:
        number += 1
    return f"v{number}"


def _is_keras(value: object) -> bool:
    module = type(value).__module__.split(".")[0]
    return module in ("keras", "tf_keras") and callable(getattr(value, "get_weights", None))


def _keras_digest(model: Any) -> str:
    digest = hashlib.sha256(model.to_json().encode())
    for weights in model.get_weights():
        digest.update(f"{weights.dtype.str}{weights.shape}".encode())
        digest.update(weights.tobytes())
    return digest.hexdigest()


def _directory_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(item for item in path.rglob("*") if item.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()
