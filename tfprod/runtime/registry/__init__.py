"""Model registry: versions, artifacts, metadata, reference profiles and aliases stored in
`file://`, `s3://`, `gs://` or `az://` object stores (see `registry` for the layout)."""

from tfprod.policy.profile import (
    CategoricalFeature,
    NumericFeature,
    ReferenceProfile,
    build_profile,
)
from tfprod.runtime.registry.cas import update_json
from tfprod.runtime.registry.errors import (
    ChecksumMismatchError,
    ConcurrentUpdateError,
    NoRegistryError,
    NotFoundError,
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
    VersionExistsError,
)
from tfprod.runtime.registry.housekeeping import OrphanUpload, collect_orphans
from tfprod.runtime.registry.local import SERVING_MAP_FILE
from tfprod.runtime.registry.records import AliasChange, FileEntry, ModelVersion
from tfprod.runtime.registry.registry import DEFAULT_ALIAS_HISTORY_LIMIT, Registry, pull_artifact
from tfprod.runtime.registry.store import ObjectStore, StoredObject
from tfprod.runtime.registry.uri import open_store

__all__ = [
    "DEFAULT_ALIAS_HISTORY_LIMIT",
    "SERVING_MAP_FILE",
    "AliasChange",
    "CategoricalFeature",
    "ChecksumMismatchError",
    "ConcurrentUpdateError",
    "FileEntry",
    "ModelVersion",
    "NoRegistryError",
    "NotFoundError",
    "NumericFeature",
    "ObjectNotFoundError",
    "ObjectStore",
    "OrphanUpload",
    "PreconditionFailedError",
    "ReferenceProfile",
    "Registry",
    "RegistryError",
    "StoredObject",
    "VersionExistsError",
    "build_profile",
    "collect_orphans",
    "open_store",
    "pull_artifact",
    "update_json",
]
