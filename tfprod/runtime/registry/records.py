"""The registry's value types: what `Registry` returns and what `local` installs.

They live apart from `registry` so that modules the registry itself uses (`local`) can name
them without importing the registry back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class FileEntry:
    path: str
    """Relative to the SavedModel directory, `/`-separated."""
    sha256: str
    size: int


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    """One published version of a model."""

    name: str
    version: str
    serving_version: int
    """TF Serving's numeric version directory for this version; increases with each new
    version of the model, so TF Serving's default policy serves the newest."""
    created_at: str
    """ISO 8601 UTC time of publication."""
    dataset_version: str | None
    metrics: Mapping[str, float]
    signature: Mapping[str, Any]
    """The SavedModel's signatures: inputs and outputs with dtype and shape."""
    metadata: Mapping[str, Any]
    """Free-form metadata given at registration."""
    files: tuple[FileEntry, ...]
    has_profile: bool


@dataclass(frozen=True, kw_only=True)
class AliasChange:
    version: str
    at: str
    reason: str
