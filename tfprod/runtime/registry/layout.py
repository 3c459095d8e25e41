"""Where the registry keeps what, and the names it accepts.

Layout under the registry root (all JSON is UTF-8):

    registry.json                           marks the root as a registry (first push)
    models/<name>/uploads/<version>/<upload id>/artifact/<file>   the SavedModel's files
    models/<name>/uploads/<version>/<upload id>/metadata.json
    models/<name>/uploads/<version>/<upload id>/profile.json      reference profile, if given
    models/<name>/uploads/<version>/<upload id>/manifest.json     sha256 and size of each
    models/<name>/serving-versions.json     version string -> TF Serving version number
    models/<name>/commits/<version>.json    commit record: publishes the version
    models/<name>/aliases/<alias>.json      current version and history of one alias
"""

from __future__ import annotations

import hashlib
import re

from tfprod.runtime.registry.errors import RegistryError

FORMAT = 1
MARKER_KEY = "registry.json"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # as tfprod.policy's version ids
ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,62}")


def upload_key(name: str, version: str, upload_id: str, path: str) -> str:
    return f"models/{name}/uploads/{version}/{upload_id}/{path}"


def parse_upload_key(key: str) -> tuple[str, str, str] | None:
    """(name, version, upload id) of a key under some upload, else None."""
    parts = key.split("/")
    if len(parts) < 6 or parts[0] != "models" or parts[2] != "uploads":
        return None
    return parts[1], parts[3], parts[4]


def commit_key(name: str, version: str) -> str:
    return f"models/{name}/commits/{version}.json"


def commits_prefix(name: str) -> str:
    return f"models/{name}/commits/"


def alias_key(name: str, alias: str) -> str:
    return f"models/{name}/aliases/{alias}.json"


def aliases_prefix(name: str) -> str:
    return f"models/{name}/aliases/"


def serving_versions_key(name: str) -> str:
    return f"models/{name}/serving-versions.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(value: str, pattern: re.Pattern[str], what: str) -> None:
    if not pattern.fullmatch(value):
        raise RegistryError(f"{what} {value!r} is not allowed: it must match {pattern.pattern}")
