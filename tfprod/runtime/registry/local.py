"""The local side of `pull`: the directories TF Serving reads."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from tfprod.runtime.registry.errors import ChecksumMismatchError
from tfprod.runtime.registry.layout import sha256
from tfprod.runtime.registry.records import ModelVersion

SERVING_MAP_FILE = "tfprod-versions.json"
"""Written next to the numeric version directories that `pull` creates: maps each TF Serving
version number back to the registry's version string (TF Serving ignores the file)."""


def install_atomically(target: Path, fill: Callable[[Path], None]) -> None:
    """Makes `target` appear complete or not at all: `fill` writes into a fresh staging
    directory next to it (hidden and non-numeric, so TF Serving ignores it), which is then
    renamed. Does nothing if `target` exists, also when a concurrent pull just created it."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        fill(staging)
        os.rename(staging, target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def verify_local(version: ModelVersion, target: Path) -> None:
    for item in version.files:
        path = target / item.path
        actual = sha256(path.read_bytes()) if path.is_file() else "a missing file"
        if actual != item.sha256:
            raise ChecksumMismatchError(str(path), expected=item.sha256, actual=actual)


def record_serving_version(model_dir: Path, version: ModelVersion) -> None:
    path = model_dir / SERVING_MAP_FILE
    mapping = json.loads(path.read_text()) if path.exists() else {}
    mapping[str(version.serving_version)] = version.version
    tmp = path.with_name(f".{SERVING_MAP_FILE}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps(mapping, sort_keys=True, indent=1))
    os.replace(tmp, path)
