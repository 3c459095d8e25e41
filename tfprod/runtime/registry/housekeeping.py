"""Finding and removing uploads that never became a version.

An upload is an orphan when no commit record names it: its process was killed before the
commit, or it lost a race to publish the same version. Only orphans that nothing was written
to for a given age are collected, so an upload still in progress is left alone (its commit
follows its last object within seconds), and the version's commit record is read just before
an upload is judged, so a committed upload is never touched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from tfprod.runtime.registry.errors import ObjectNotFoundError
from tfprod.runtime.registry.layout import commit_key, parse_upload_key
from tfprod.runtime.registry.store import ObjectStore


@dataclass(frozen=True, kw_only=True)
class OrphanUpload:
    name: str
    version: str
    upload_id: str
    objects: int
    """How many objects the upload holds."""
    last_modified: float
    """POSIX time of its newest object."""


def collect_orphans(
    store: ObjectStore, *, older_than_seconds: float, delete: bool, now: float | None = None
) -> list[OrphanUpload]:
    """The orphaned uploads last written over `older_than_seconds` ago, sorted; deleted too
    when `delete` is true."""
    cutoff = (time.time() if now is None else now) - older_than_seconds
    uploads: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    for key, modified in store.list_modified("models/").items():
        upload = parse_upload_key(key)
        if upload is not None:
            uploads.setdefault(upload, []).append((key, modified))
    orphans: list[OrphanUpload] = []
    for (name, version, upload_id), objects in sorted(uploads.items()):
        newest = max(modified for _, modified in objects)
        if newest > cutoff or _committed_upload(store, name, version) == upload_id:
            continue
        orphan = OrphanUpload(
            name=name,
            version=version,
            upload_id=upload_id,
            objects=len(objects),
            last_modified=newest,
        )
        if delete:
            for key, _ in objects:
                store.delete(key)
        orphans.append(orphan)
    return orphans


def _committed_upload(store: ObjectStore, name: str, version: str) -> str | None:
    try:
        upload_id: str = json.loads(store.get(commit_key(name, version)).data)["upload_id"]
    except ObjectNotFoundError:
        return None
    return upload_id
