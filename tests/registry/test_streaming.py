"""Artifacts larger than one chunk stream through every backend with their sha256 intact."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest

from tfprod.runtime.registry import PreconditionFailedError, Registry, RegistryError, open_store
from tfprod.runtime.registry.streams import CHUNK_SIZE, HashingReader, HashingWriter

SIZE = 2 * CHUNK_SIZE + 12345  # three chunks, the last one short


class FailsOnce:
    """A file whose read fails once, at `at` bytes: the request carrying it is aborted
    mid-body, as it is when the connection drops."""

    def __init__(self, raw: io.BufferedReader, at: int) -> None:
        self._raw = raw
        self._at = at
        self.failed = False

    def read(self, size: int = -1, /) -> bytes:
        if not self.failed and self._raw.tell() >= self._at:
            self.failed = True
            raise OSError("read failed once")
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._raw.seek(offset, whence)


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "blob.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


@pytest.mark.slow
def test_a_file_of_several_chunks_round_trips_with_its_checksum(
    registry_uri: str, large_file: Path, tmp_path: Path
) -> None:
    store = open_store(registry_uri)
    expected = hashlib.sha256(large_file.read_bytes()).hexdigest()

    with large_file.open("rb") as raw:
        reader = HashingReader(raw)
        store.put_file_if_absent("big/blob.bin", reader, size=SIZE)
    with (tmp_path / "copy.bin").open("wb") as raw:
        writer = HashingWriter(raw)
        store.download("big/blob.bin", writer)

    assert (reader.sha256, reader.size) == (expected, SIZE)
    assert (writer.sha256, writer.size) == (expected, SIZE)
    assert hashlib.sha256((tmp_path / "copy.bin").read_bytes()).hexdigest() == expected
    assert store.list("big/") == ["big/blob.bin"]


def test_a_hashing_reader_hashes_each_byte_once_when_read_again_after_seeking_back(
    large_file: Path,
) -> None:
    with large_file.open("rb") as raw:
        reader = HashingReader(raw)
        reader.read(CHUNK_SIZE + 7)
        assert reader.seek(5) == 5
        while reader.read(CHUNK_SIZE):
            pass

        assert (reader.sha256, reader.size, reader.tell()) == (
            hashlib.sha256(large_file.read_bytes()).hexdigest(),
            SIZE,
            SIZE,
        )
        with pytest.raises(io.UnsupportedOperation, match=f"only to bytes 0-{SIZE} it has read"):
            reader.seek(SIZE + 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "registry_uri", [pytest.param("gs", marks=pytest.mark.service)], indirect=True
)
def test_an_upload_cut_off_mid_body_is_retried_and_keeps_its_checksum(
    registry_uri: str, large_file: Path, tmp_path: Path
) -> None:
    store = open_store(registry_uri)

    with large_file.open("rb") as raw:
        source = FailsOnce(raw, at=CHUNK_SIZE + 4096)
        reader = HashingReader(source)
        store.put_file_if_absent("big/blob.bin", reader, size=SIZE)
    with (tmp_path / "copy.bin").open("wb") as copy:
        store.download("big/blob.bin", copy)

    expected = hashlib.sha256(large_file.read_bytes()).hexdigest()
    assert source.failed
    assert (reader.sha256, reader.size) == (expected, SIZE)
    assert hashlib.sha256((tmp_path / "copy.bin").read_bytes()).hexdigest() == expected


@pytest.mark.parametrize(
    "registry_uri", [pytest.param("gs", marks=pytest.mark.service)], indirect=True
)
def test_a_file_shorter_than_its_announced_size_fails_naming_registry_and_key(
    registry_uri: str,
) -> None:
    store = open_store(registry_uri)

    with pytest.raises(RegistryError) as failed:
        store.put_file_if_absent("short.bin", io.BytesIO(b"x" * 100), size=150)

    assert str(failed.value) == (
        f"registry {registry_uri}: 'short.bin': the file ended 50 bytes short of its size"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "registry_uri",
    [
        "file",
        pytest.param("s3", marks=pytest.mark.service),
        pytest.param("az", marks=pytest.mark.service),
    ],
    indirect=True,
)
def test_a_file_of_several_chunks_is_created_only_once(registry_uri: str, large_file: Path) -> None:
    # Not on gs://: fake-gcs-server ignores ifGenerationMatch on resumable uploads (GCS
    # itself honours it). Artifacts go under a fresh upload id anyway; what publishes a
    # version is the small, create-only commit record, which the emulator does check.
    store = open_store(registry_uri)
    with large_file.open("rb") as raw:
        store.put_file_if_absent("big/blob.bin", raw, size=SIZE)

    with large_file.open("rb") as raw, pytest.raises(PreconditionFailedError):
        store.put_file_if_absent(
            "big/blob.bin", raw, size=SIZE
        )  # the completion step is create-only


@pytest.mark.slow
def test_a_saved_model_with_a_large_file_is_published_and_pulled_verified(
    registry_uri: str, saved_model_dir: Path, large_file: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(saved_model_dir, model)
    shutil.copy(large_file, model / "assets.bin")
    registry = Registry.open(registry_uri)

    version = registry.register(model, name="big", version="v1")
    pulled = registry.pull("big", "v1", tmp_path / "models")

    (entry,) = [item for item in version.files if item.path == "assets.bin"]
    assert (entry.size, entry.sha256) == (SIZE, hashlib.sha256(large_file.read_bytes()).hexdigest())
    assert (pulled / "assets.bin").read_bytes() == large_file.read_bytes()
