"""The small object-store interface every registry backend implements.

The registry needs these few operations, and the writes are conditional: a create-only
put (the commit record that publishes a version, so a version is published once) and a
compare-and-swap put (aliases, so concurrent updates never lose one). Every backend maps them
onto the store's native preconditions: S3 `If-None-Match: *` / `If-Match`, GCS
`ifGenerationMatch`, Azure Blob `If-None-Match: *` / `If-Match`, and on a local file system
create-only hard links of generation-numbered files. Artifacts move through `put_file_if_absent`
and `download`, which stream in chunks of at most `streams.CHUNK_SIZE` bytes (S3 multipart, GCS
resumable uploads, Azure staged blocks), so memory stays flat whatever the model's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tfprod.runtime.registry.streams import Sink, Source


@dataclass(frozen=True, kw_only=True)
class StoredObject:
    """An object's content together with the version token that a later
    `put_if_match` must present (an ETag, or a generation number as text)."""

    data: bytes
    token: str


class ObjectStore(Protocol):
    """Keys are `/`-separated relative paths. `get` and the `put_if_*` writes hold whole
    (small, JSON) objects in memory; artifacts stream through `put_file_if_absent` and
    `download`."""

    @property
    def uri(self) -> str:
        """The registry URI this store was opened from, for messages."""
        ...

    def get(self, key: str) -> StoredObject:
        """The object's content and version token; raises `ObjectNotFoundError`."""
        ...

    def put_if_absent(self, key: str, data: bytes) -> str:
        """Creates the object only if no object exists under `key`; returns its token.
        Raises `PreconditionFailedError` if one exists."""
        ...

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        """Replaces the object only if its current token is `token`; returns the new token.
        Raises `PreconditionFailedError` if it changed (or was deleted) since `token`."""
        ...

    def put_file_if_absent(self, key: str, source: Source, *, size: int) -> None:
        """Creates the object from `source`, read to its end in chunks, only if no object
        exists under `key` (checked when the object is completed); raises
        `PreconditionFailedError` if one exists. `size` is the bytes `source` holds, which
        a store may announce up front; a store that retries an interrupted upload seeks
        `source` back to its start."""
        ...

    def download(self, key: str, sink: Sink) -> None:
        """Writes the object's content to `sink` in chunks; raises `ObjectNotFoundError`."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key that starts with `prefix`, sorted."""
        ...

    def list_modified(self, prefix: str) -> dict[str, float]:
        """Every key that starts with `prefix`, with its last modification (POSIX seconds)."""
        ...

    def delete(self, key: str) -> None:
        """Removes the object; does nothing if it does not exist."""
        ...
