"""`file://` backend: a directory on a local (POSIX) file system.

Each object is kept as generation-numbered files, `<key>#0000000001`, `<key>#0000000002`, ...;
the highest generation is the current content and its number is the version token. A write
first fills a temporary file, then hard-links it under the next generation's name: `link`
fails if that name exists, so it is an atomic create-only step that needs no lock. Create-only
links generation 1; compare-and-swap from token N links generation N + 1, so of several writers
that read generation N exactly one wins and the others get `PreconditionFailedError`, across
threads and processes alike. Old generations are kept (alias documents are small and rarely
written): deleting them would let a writer holding a stale token re-create a deleted number.
"""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from tfprod.runtime.registry.errors import ObjectNotFoundError, PreconditionFailedError
from tfprod.runtime.registry.store import StoredObject
from tfprod.runtime.registry.streams import CHUNK_SIZE, Sink, Source

_SEPARATOR = "#"
_WIDTH = 10
_TMP_DIR = ".tmp"


class FileStore:
    """Objects under the directory `root`, which is created on the first write."""

    def __init__(self, root: Path, *, uri: str) -> None:
        self._root = root
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, key: str) -> StoredObject:
        for _ in range(3):  # a concurrent delete may remove the file between listing and reading
            generation = self._current_generation(key)
            if generation == 0:
                break
            try:
                data = self._path(key, generation).read_bytes()
            except FileNotFoundError:
                continue
            return StoredObject(data=data, token=str(generation))
        raise ObjectNotFoundError(key)

    def put_if_absent(self, key: str, data: bytes) -> str:
        self._link_new(key, 1, lambda tmp: tmp.write(data))
        return "1"

    def put_file_if_absent(self, key: str, source: Source, *, size: int) -> None:
        self._link_new(key, 1, lambda tmp: shutil.copyfileobj(source, tmp, CHUNK_SIZE))

    def download(self, key: str, sink: Sink) -> None:
        for _ in range(3):  # as in `get`
            generation = self._current_generation(key)
            if generation == 0:
                break
            try:
                source = self._path(key, generation).open("rb")
            except FileNotFoundError:
                continue
            with source:
                shutil.copyfileobj(source, sink, CHUNK_SIZE)
            return
        raise ObjectNotFoundError(key)

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        generation = int(token)
        if not self._path(key, generation).exists():
            raise PreconditionFailedError(key)
        self._link_new(key, generation + 1, lambda tmp: tmp.write(data))
        return str(generation + 1)

    def list(self, prefix: str) -> list[str]:
        return sorted({key for key, _ in self._walk(prefix)})

    def list_modified(self, prefix: str) -> dict[str, float]:
        modified: dict[str, float] = {}
        for key, path in self._walk(prefix):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:  # deleted since the walk listed it
                continue
            modified[key] = max(modified.get(key, mtime), mtime)
        return dict(sorted(modified.items()))

    def _walk(self, prefix: str) -> Iterator[tuple[str, Path]]:
        """Each generation file of each key under `prefix`, as (key, path)."""
        start = self._root / prefix.rpartition("/")[0]  # the deepest directory in `prefix`
        for directory, subdirs, files in os.walk(start):
            if Path(directory) == self._root and _TMP_DIR in subdirs:
                subdirs.remove(_TMP_DIR)
            relative = Path(directory).relative_to(self._root).as_posix()
            for file_name in files:
                base, separator, generation = file_name.rpartition(_SEPARATOR)
                if not separator or not generation.isdigit():
                    continue
                key = base if relative == "." else f"{relative}/{base}"
                if key.startswith(prefix):
                    yield key, Path(directory) / file_name

    def delete(self, key: str) -> None:
        for generation in self._generations(key):
            self._path(key, generation).unlink(missing_ok=True)

    def _path(self, key: str, generation: int) -> Path:
        return self._root / f"{key}{_SEPARATOR}{generation:0{_WIDTH}d}"

    def _generations(self, key: str) -> builtins.list[int]:
        target = self._root / key
        try:
            names = os.listdir(target.parent)
        except FileNotFoundError:
            return []
        stem = target.name + _SEPARATOR
        return sorted(
            int(name[len(stem) :])
            for name in names
            if name.startswith(stem) and name[len(stem) :].isdigit()
        )

    def _current_generation(self, key: str) -> int:
        return max(self._generations(key), default=0)

    def _link_new(self, key: str, generation: int, fill: Callable[[IO[bytes]], object]) -> None:
        target = self._path(key, generation)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = self._root / _TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        descriptor, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(descriptor, "wb") as tmp:
                fill(tmp)
                tmp.flush()
                os.fsync(tmp.fileno())
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                raise PreconditionFailedError(key) from None
        finally:
            os.unlink(tmp_name)
