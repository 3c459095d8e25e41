"""`gs://bucket/prefix` backend (google-cloud-storage, imported when the store is opened).

The client uses Application Default Credentials (in a cluster, GKE Workload Identity through
the metadata server; locally `GOOGLE_APPLICATION_CREDENTIALS` as an explicit override), or no
credentials at all when `STORAGE_EMULATOR_HOST` points it at an emulator such as
fake-gcs-server. Every write carries `ifGenerationMatch`: 0 means create-only, and a
generation number means compare-and-swap; GCS answers 412 to the loser. Reads pin the
generation they report, so the token always belongs to the bytes returned. Artifacts go up as
resumable uploads in `RESUMABLE_CHUNK_SIZE` requests (their size announced) and come down as
one streamed read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from tfprod.runtime.registry.errors import (
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
)
from tfprod.runtime.registry.store import StoredObject
from tfprod.runtime.registry.streams import CHUNK_SIZE, Sink, Source

RESUMABLE_CHUNK_SIZE = 6 * CHUNK_SIZE
"""Bytes per resumable-upload request (48 MiB, a multiple of GCS's 256 KiB). The client holds
about two requests' bytes at once (the next is read while the last is still referenced), so
48 MiB keeps an upload under the 100 MB bound; the client's own default is 100 MiB. On
fake-gcs-server, whose cost grows with the number of requests, 8 MiB requests ran at about a
third of the client's upload-from-file speed (bench/registry.py)."""


class GcsStore:
    """Objects under `prefix` in an existing `bucket`."""

    def __init__(self, bucket: str, prefix: str, *, uri: str) -> None:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import storage

        if os.environ.get("STORAGE_EMULATOR_HOST"):
            client = storage.Client.create_anonymous_client()
        else:
            try:
                client = storage.Client()
            except DefaultCredentialsError as error:
                raise RegistryError(
                    f"registry {uri} found no Google credentials (Application Default "
                    f"Credentials): {error}"
                ) from None
        self._bucket: Any = client.bucket(bucket)
        self._prefix = prefix
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, key: str) -> StoredObject:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        with self._errors(key):
            for _ in range(5):  # the object may be replaced between reading metadata and data
                blob = self._bucket.get_blob(self._prefix + key)
                if blob is None:
                    break
                try:
                    data: bytes = blob.download_as_bytes(if_generation_match=blob.generation)
                except PreconditionFailed:
                    continue
                except NotFound:
                    break
                return StoredObject(data=data, token=str(blob.generation))
        raise ObjectNotFoundError(key)

    def put_if_absent(self, key: str, data: bytes) -> str:
        return self._put(key, data, generation=0)

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        return self._put(key, data, generation=int(token))

    def put_file_if_absent(self, key: str, source: Source, *, size: int | None = None) -> None:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._bucket.blob(self._prefix + key, chunk_size=RESUMABLE_CHUNK_SIZE)
        with self._errors(key):
            try:
                blob.upload_from_file(source, size=size, if_generation_match=0)
            except PreconditionFailed:
                raise PreconditionFailedError(key) from None

    def download(self, key: str, sink: Sink) -> None:
        from google.api_core.exceptions import NotFound

        with self._errors(key):
            try:
                self._bucket.blob(self._prefix + key).download_to_file(sink)
            except NotFound:
                raise ObjectNotFoundError(key) from None

    def list(self, prefix: str) -> list[str]:
        return sorted(self.list_modified(prefix))

    def list_modified(self, prefix: str) -> dict[str, float]:
        with self._errors(prefix):
            blobs = self._bucket.client.list_blobs(self._bucket, prefix=self._prefix + prefix)
            modified = {blob.name[len(self._prefix) :]: blob.updated.timestamp() for blob in blobs}
        return dict(sorted(modified.items()))

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound

        with self._errors(key), contextlib.suppress(NotFound):
            self._bucket.blob(self._prefix + key).delete()

    def _put(self, key: str, data: bytes, *, generation: int) -> str:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._bucket.blob(self._prefix + key)
        with self._errors(key):
            try:
                blob.upload_from_string(data, if_generation_match=generation)
            except PreconditionFailed:
                raise PreconditionFailedError(key) from None
        return str(blob.generation)

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Reports a missing bucket, or any other failure of the service, in one line."""
        from google.api_core.exceptions import GoogleAPIError, NotFound
        from requests.exceptions import RequestException

        try:
            yield
        except NotFound:
            raise RegistryError(
                f"bucket {self._bucket.name!r} of registry {self._uri} does not exist"
            ) from None
        except (GoogleAPIError, RequestException) as error:
            raise RegistryError(f"registry {self._uri}: {key!r}: {error}") from None
