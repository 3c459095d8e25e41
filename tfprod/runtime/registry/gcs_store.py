"""`gs://bucket/prefix` backend (google-cloud-storage, imported when the store is opened).

The client uses Application Default Credentials (in a cluster, GKE Workload Identity through
the metadata server; locally `GOOGLE_APPLICATION_CREDENTIALS` as an explicit override), or no
credentials at all when `STORAGE_EMULATOR_HOST` points it at an emulator such as
fake-gcs-server. Every write carries `ifGenerationMatch`: 0 means create-only, and a
generation number means compare-and-swap; GCS answers 412 to the loser. Reads pin the
generation they report, so the token always belongs to the bytes returned. Artifacts go up as
resumable uploads streamed from the file in one request (see `put_file_if_absent`) and come
down as one streamed read.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from tfprod.runtime.registry.errors import (
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
)
from tfprod.runtime.registry.store import StoredObject
from tfprod.runtime.registry.streams import CHUNK_SIZE, Sink, Source

UPLOAD_ATTEMPTS = 5
"""Sessions an artifact upload may take: the first, and fresh ones after a connection error
or a 408, 429 or 5xx answer, each sending the file again from its first byte. (GCS could
resume from the bytes it kept, but fake-gcs-server answers the status query by completing the
object with what it has, so that path could not be tested here.)"""

RETRIED_STATUS = frozenset({408, 429, 500, 502, 503, 504})


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

    def put_file_if_absent(self, key: str, source: Source, *, size: int) -> None:
        """Opens a resumable upload session (with `ifGenerationMatch=0`) and streams the whole
        file into it in one request, read in `CHUNK_SIZE` pieces: memory stays flat whatever
        the size, and the service gets one request where a chunked upload sends one per chunk
        (the client's own upload holds each 100 MiB chunk in memory)."""
        import requests
        from google.api_core.exceptions import PreconditionFailed

        blob = self._bucket.blob(self._prefix + key)
        failure = ""
        # The session URI is its own credential (GCS documents it as usable without
        # authorization), so a plain `requests` session sends the bytes.
        with self._errors(key), requests.Session() as http:
            for attempt in range(UPLOAD_ATTEMPTS):
                if attempt:
                    time.sleep(min(2.0**attempt / 4, 4.0))
                try:
                    session = blob.create_resumable_upload_session(
                        size=size, if_generation_match=0, checksum=None
                    )
                except PreconditionFailed:
                    raise PreconditionFailedError(key) from None
                source.seek(0)
                failure, retry = _send(http, session, source, size, key=key, uri=self._uri)
                if not failure:
                    return
                if not retry:
                    break
        raise RegistryError(
            f"registry {self._uri}: {key!r}: upload failed after {attempt + 1} attempt(s): "
            f"{failure}"
        )

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


def _send(
    http: Any, session: str, source: Source, size: int, *, key: str, uri: str
) -> tuple[str, bool]:
    """One request sending all of `source` into `session`: ("", False) once the object is
    complete with every byte, else what failed and whether a fresh session may succeed."""
    import requests

    where = f"registry {uri}: {key!r}"

    try:
        response = http.put(
            session,
            data=_Body(source, size, where=where) if size else b"",
            headers={"Content-Range": f"bytes 0-{size - 1}/{size}" if size else "bytes */0"},
            timeout=(30, 300),
        )
    except requests.ConnectionError as error:
        return str(error), True
    if response.status_code == 412:
        raise PreconditionFailedError(key)
    if response.status_code not in (200, 201):
        failure = f"GCS answered {response.status_code}: {response.text[:200]}"
        return failure, response.status_code in RETRIED_STATUS
    _check_size(response.json(), size, where=where)
    return "", False


def _check_size(stored: dict[str, Any], size: int, *, where: str) -> None:
    """The completed object holds every byte sent, not fewer (`where` starts the error)."""
    if int(stored.get("size", -1)) != size:
        raise RegistryError(
            f"{where}: GCS completed the upload with {stored.get('size')} of {size} bytes"
        )


class _Body:
    """`length` bytes of `source` from where it stands, read in `CHUNK_SIZE` pieces: an
    iterable with a length, which `requests` streams with that Content-Length."""

    def __init__(self, source: Source, length: int, *, where: str) -> None:
        """`where` ("registry URI: 'key'") starts the error of a source that ends short."""
        self._source = source
        self._length = length
        self._where = where

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        left = self._length
        while left:
            chunk = self._source.read(min(CHUNK_SIZE, left))
            if not chunk:
                raise RegistryError(f"{self._where}: the file ended {left} bytes short of its size")
            left -= len(chunk)
            yield chunk
