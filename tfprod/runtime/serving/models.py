"""Loading SavedModel versions and resolving a request's (name, version | label) to one.

Lookup failures use TF Serving's messages and codes, since clients and the gateway key on
them: an unknown model or version is NOT_FOUND, an unknown label INVALID_ARGUMENT.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfprod.runtime.serving.config import ModelConfig, ServingConfigError, VersionPolicy
from tfprod.runtime.serving.errors import ServingError, invalid_argument, not_found
from tfprod.runtime.serving.signatures import Signature, signature_from_def

DEFAULT_SIGNATURE = "serving_default"
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ServableVersion:
    model_name: str
    version: int
    signatures: Mapping[str, Signature]
    signature_defs: Any
    """The `SignatureDef` protos by key, as the SavedModel holds them (for metadata)."""
    keepalive: Any
    """The loaded SavedModel object, kept alive so its concrete functions stay valid."""

    def signature(self, key: str) -> Signature:
        """For gRPC requests: a missing key is FAILED_PRECONDITION there, as in TF Serving."""
        name = key or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise ServingError("FAILED_PRECONDITION", f'Serving signature key "{name}" not found.')
        return self.signatures[name]


@dataclass(frozen=True, kw_only=True)
class ServedModel:
    name: str
    versions: Mapping[int, ServableVersion]
    labels: Mapping[str, int]


class ModelManager:
    """The models a server holds. `refresh()` rescans the base paths, as TF Serving polls its
    file system: new versions the policy selects are loaded, versions it drops are unloaded.
    Readers see either the old or the new set of models, never a mix (one reference swap)."""

    def __init__(self, configs: tuple[ModelConfig, ...], models: Mapping[str, ServedModel]) -> None:
        self._configs = configs
        self._models = dict(models)

    @property
    def models(self) -> Mapping[str, ServedModel]:
        return self._models

    def refresh(self) -> None:
        """Reloads what changed on disk; a model that fails to load keeps its current versions
        (the failure is logged, and retried at the next refresh)."""
        current = self._models
        updated = dict(current)
        for config in self._configs:
            served = current[config.name]
            try:
                updated[config.name] = _load_model(config, served.versions)
            except Exception:
                _LOG.exception(
                    "model %r: reload failed; keeping versions %s",
                    config.name,
                    sorted(served.versions),
                )
                continue
            added = sorted(set(updated[config.name].versions) - set(served.versions))
            removed = sorted(set(served.versions) - set(updated[config.name].versions))
            if added or removed:
                _LOG.info("model %r: loaded versions %s, unloaded %s", config.name, added, removed)
        self._models = updated

    def resolve(self, name: str, version: int | None, label: str | None) -> ServableVersion:
        if not name:
            raise invalid_argument("ModelSpec has no name specified.")
        if version is not None and label is not None:
            raise invalid_argument(
                f"Both model version ({version}) and model version label ({label}) "
                "cannot be supplied."
            )
        model = self._models.get(name)
        if label is not None:
            if model is None or label not in model.labels:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            version = model.labels[label]
        if version is None:
            if model is None or not model.versions:
                raise not_found(f"Servable not found for request: Latest({name})")
            return model.versions[max(model.versions)]
        if model is None or version not in model.versions:
            raise not_found(f"Servable not found for request: Specific({name}, {version})")
        return model.versions[version]

    def version_states(self, name: str, version: int | None) -> list[int]:
        """Versions to report in a status request, newest first (TF Serving's order)."""
        model = self._models.get(name)
        if version is not None:
            if model is None or version not in model.versions:
                raise not_found(f"Could not find version {version} of model {name}")
            return [version]
        if model is None or not model.versions:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(model.versions, reverse=True)


def load_models(configs: tuple[ModelConfig, ...]) -> ModelManager:
    return ModelManager(configs, {config.name: _load_model(config, {}) for config in configs})


def _load_model(config: ModelConfig, loaded: Mapping[int, ServableVersion]) -> ServedModel:
    """The versions the policy selects now, reusing those in `loaded`."""
    available = _version_dirs(config)
    chosen = _apply_policy(config, sorted(available))
    versions = {
        version: loaded[version]
        if version in loaded
        else _load_version(config.name, version, available[version])
        for version in chosen
    }
    labels = dict(config.version_labels)
    for label, version in labels.items():
        if version not in versions:
            raise ServingConfigError(
                f"model {config.name!r}: version label {label!r} points at version {version}, "
                f"which is not served; served versions: {sorted(versions)}"
            )
    return ServedModel(name=config.name, versions=versions, labels=labels)


def _version_dirs(config: ModelConfig) -> dict[int, Path]:
    if not config.base_path.is_dir():
        raise ServingConfigError(
            f"model {config.name!r}: base path {str(config.base_path)!r} is not a directory"
        )
    found = {
        int(child.name): child
        for child in config.base_path.iterdir()
        if child.is_dir() and child.name.isdigit()
    }
    if not found:
        raise ServingConfigError(
            f"model {config.name!r}: no numeric version directories under "
            f"{str(config.base_path)!r} (expected e.g. {str(config.base_path / '1')!r})"
        )
    return found


def _apply_policy(config: ModelConfig, available: list[int]) -> list[int]:
    policy: VersionPolicy = config.version_policy
    if policy.specific:
        missing = sorted(set(policy.specific) - set(available))
        if missing:
            raise ServingConfigError(
                f"model {config.name!r}: versions {missing} requested by the version policy are "
                f"missing under {str(config.base_path)!r}; available: {available}"
            )
        return sorted(policy.specific)
    if policy.all_versions:
        return available
    count = policy.latest or 1
    return available[-count:]


def _load_version(model_name: str, version: int, path: Path) -> ServableVersion:
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    proto_path = path / "saved_model.pb"
    if not proto_path.is_file():
        raise ServingConfigError(
            f"model {model_name!r} version {version}: {str(proto_path)!r} does not exist"
        )
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(proto_path.read_bytes())
    signature_defs = saved_model.meta_graphs[0].signature_def
    loaded = tf.saved_model.load(str(path))
    signatures = {
        key: signature_from_def(key, signature_defs[key], function)
        for key, function in loaded.signatures.items()
        if key in signature_defs
    }
    return ServableVersion(
        model_name=model_name,
        version=version,
        signatures=signatures,
        signature_defs=signature_defs,
        keepalive=loaded,
    )
