"""The local side of `pull`: the directories TF Serving reads."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from tfprod.runtime.registry.errors import ChecksumMismatchError
from tfprod.runtime.registry.records import ModelVersion
from tfprod.runtime.registry.streams import file_sha256

SERVING_MAP_FILE = "tfprod-versions.json"
"""Written next to the numeric version directories that `pull` creates: maps each TF Serving
version number back to the registry's version string (TF Serving ignores the file)."""


def install_atomically(target: Path, fill: Callable[[Path], None]) -> bool:
    """Makes `target` appear complete or not at all: `fill` writes into a fresh staging
    directory next to it (hidden and non-numeric, so TF Serving ignores it), which is then
    renamed. Does nothing if `target` exists, also when a concurrent pull just created it;
    returns whether this call installed it."""
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        fill(staging)
        os.rename(staging, target)
    except OSError:
        if not target.exists():
            raise
        return False
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def verify_local(version: ModelVersion, target: Path) -> None:
    for item in version.files:
        path = target / item.path
        actual = file_sha256(path) if path.is_file() else "a missing file"
        if actual != item.sha256:
            raise ChecksumMismatchError(str(path), expected=item.sha256, actual=actual)


def record_serving_version(model_dir: Path, version: ModelVersion) -> None:
    """Adds `version` to the serving record under an exclusive `flock` of the model
    directory (no lock file for TF Serving to see), so concurrent pulls, in threads or
    processes, never lose each other's entry."""
    path = model_dir / SERVING_MAP_FILE
    descriptor = os.open(model_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # released when the descriptor is closed
        mapping = json.loads(path.read_text()) if path.exists() else {}
        mapping[str(version.serving_version)] = version.version
        tmp = path.with_name(f".{SERVING_MAP_FILE}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps(mapping, sort_keys=True, indent=1))
        os.replace(tmp, path)
    finally:
        os.close(descriptor)
