"""File objects that compute a sha256 and a size while the bytes stream through them, so an
artifact is checksummed in the same single pass that uploads or downloads it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")

CHUNK_SIZE = 8 * 1024 * 1024
"""The most bytes a store holds in memory at once per transfer. 8 MiB is above S3's 5 MiB
minimum multipart part size and a multiple of GCS's 256 KiB resumable-upload granularity."""


class Source(Protocol):
    """What stores read artifacts from: a buffered file or a `HashingReader`. A store that
    retries an interrupted upload seeks back to the start."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...


class Sink(Protocol):
    """What stores write downloaded artifacts to: a file or a `HashingWriter`."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...


class HashingReader(io.RawIOBase):
    """Reads a seekable `source`; `sha256` and `size` describe every byte up to the furthest
    one read so far. It seeks back only to where it has already read (a retried upload) and
    hashes each byte once, the first time it is read: `source` must not change meanwhile."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._hash = hashlib.sha256()
        self._position = 0
        self.size = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._source.read(-1 if size is None else size)
        start, self._position = self._position, self._position + len(data)
        if self._position > self.size:
            self._hash.update(memoryview(data)[self.size - start :])
            self.size = self._position
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or not 0 <= offset <= self.size:
            raise io.UnsupportedOperation(
                f"a HashingReader seeks back only to bytes 0-{self.size} it has read"
            )
        self._position = self._source.seek(offset)
        return self._position

    def tell(self) -> int:
        return self._position

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class HashingWriter(io.RawIOBase):
    """Writes to `sink` forwards only; `sha256` and `size` describe every byte written."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._hash.update(data)
        self._sink.write(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def first_chunk(source: Source) -> tuple[bytes, bool]:
    """The first chunk of `source` and whether it is all there is: `source` reads like a
    buffered file, whose reads come back short only at its end."""
    first = source.read(CHUNK_SIZE)
    return first, len(first) < CHUNK_SIZE


PARALLEL_CHUNKS = 4
"""How many chunks a multipart upload sends at once: memory holds at most this many chunks
(32 MiB), a fixed bound whatever the object's size."""


def send_chunks(first: bytes, source: Source, send: Callable[[int, bytes], T]) -> list[T]:
    """Reads `source` (after its `first` chunk) chunk by chunk and calls `send(index, chunk)`
    for each, up to `PARALLEL_CHUNKS` at once; returns their results in chunk order."""
    results: list[Future[T]] = []
    with ThreadPoolExecutor(PARALLEL_CHUNKS) as pool:
        chunk = first
        while chunk:
            if len(results) >= PARALLEL_CHUNKS:
                results[-PARALLEL_CHUNKS].result()  # wait for a slot: bounded memory
            results.append(pool.submit(send, len(results), chunk))
            chunk = source.read(CHUNK_SIZE)
        return [result.result() for result in results]


def file_sha256(path: Path) -> str:
    """The sha256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()
