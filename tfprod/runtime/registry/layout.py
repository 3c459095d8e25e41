"""Where the registry keeps what, and the names it accepts.

Layout under the registry root (all JSON is UTF-8):

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
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # as tfprod.policy's version ids
ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,62}")


def upload_key(name: str, version: str, upload_id: str, path: str) -> str:
    return f"models/{name}/uploads/{version}/{upload_id}/{path}"


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
