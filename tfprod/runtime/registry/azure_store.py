"""`az://account/container/prefix` backend (azure-storage-blob, imported when the store is
opened).

The storage account is named in the URI and reached at `https://<account>.blob.core.windows.net`
(or at `TFPROD_AZURE_BLOB_ENDPOINT`, for an emulator) with azure-identity's
`DefaultAzureCredential`: in a cluster, AKS workload identity (`AZURE_FEDERATED_TOKEN_FILE`,
`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`) or a managed identity, so the account can keep shared
keys disabled. The `AZURE_STORAGE_CONNECTION_STRING` environment variable (a connection string
with an account key, for example Azurite's development one) is only an explicit local override.
Create-only writes send `If-None-Match: *` and compare-and-swap sends `If-Match: <ETag>`; the
service answers 409 or 412 to the loser. Files larger than one chunk are staged as blocks and
committed with `If-None-Match: *`; uncommitted blocks of a failed upload expire on their own.
"""

from __future__ import annotations

import base64
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
from tfprod.runtime.registry.streams import CHUNK_SIZE, Sink, Source, first_chunk, send_chunks

CONNECTION_STRING_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"
ENDPOINT_VARIABLE = "TFPROD_AZURE_BLOB_ENDPOINT"
_TRANSFER: dict[str, Any] = {
    "max_single_put_size": CHUNK_SIZE,
    "max_block_size": CHUNK_SIZE,
    "max_single_get_size": CHUNK_SIZE,
    "max_chunk_get_size": CHUNK_SIZE,
}


class AzureStore:
    """Objects under `prefix` in an existing blob `container` of storage `account`.
    `credential` replaces `DefaultAzureCredential` (any azure-core `TokenCredential`)."""

    def __init__(
        self, account: str, container: str, prefix: str, *, uri: str, credential: Any = None
    ) -> None:
        from azure.storage.blob import BlobServiceClient

        connection_string = os.environ.get(CONNECTION_STRING_VARIABLE)
        if connection_string:
            service = BlobServiceClient.from_connection_string(connection_string, **_TRANSFER)
            if service.account_name != account:
                raise RegistryError(
                    f"registry {uri} names storage account {account!r} but "
                    f"{CONNECTION_STRING_VARIABLE} is for account {service.account_name!r}"
                )
        else:
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            endpoint = (
                os.environ.get(ENDPOINT_VARIABLE) or f"https://{account}.blob.core.windows.net"
            )
            service = BlobServiceClient(endpoint, credential=credential, **_TRANSFER)
        self._container: Any = service.get_container_client(container)
        self._prefix = prefix
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, key: str) -> StoredObject:
        with self._errors(key, missing=ObjectNotFoundError):
            downloader = self._blob(key).download_blob()
            data: bytes = downloader.readall()
            return StoredObject(data=data, token=downloader.properties.etag)

    def put_if_absent(self, key: str, data: bytes) -> str:
        with self._errors(key):
            result = self._blob(key).upload_blob(data, overwrite=False)
        etag: str = result["etag"]
        return etag

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        from azure.core import MatchConditions

        with self._errors(key, missing=PreconditionFailedError):
            result = self._blob(key).upload_blob(
                data,
                overwrite=True,
                etag=token,
                match_condition=MatchConditions.IfNotModified,
            )
        etag: str = result["etag"]
        return etag

    def put_file_if_absent(self, key: str, source: Source, *, size: int) -> None:
        from azure.core import MatchConditions

        chunk, last = first_chunk(source)
        if last:
            self.put_if_absent(key, chunk)
            return
        blob = self._blob(key)

        def send(index: int, block: bytes) -> str:
            block_id = base64.b64encode(f"{index:010d}".encode()).decode()
            blob.stage_block(block_id, block)
            return block_id

        with self._errors(key):
            blocks = send_chunks(chunk, source, send)
            blob.commit_block_list(blocks, match_condition=MatchConditions.IfMissing)

    def download(self, key: str, sink: Sink) -> None:
        with self._errors(key, missing=ObjectNotFoundError):
            self._blob(key).download_blob(max_concurrency=1).readinto(sink)

    def list(self, prefix: str) -> list[str]:
        return sorted(self.list_modified(prefix))

    def list_modified(self, prefix: str) -> dict[str, float]:
        with self._errors(prefix):
            blobs = self._container.list_blobs(name_starts_with=self._prefix + prefix)
            modified = {
                blob.name[len(self._prefix) :]: blob.last_modified.timestamp() for blob in blobs
            }
        return dict(sorted(modified.items()))

    def delete(self, key: str) -> None:
        missing = contextlib.suppress(ObjectNotFoundError)
        with missing, self._errors(key, missing=ObjectNotFoundError):
            self._blob(key).delete_blob()

    def _blob(self, key: str) -> Any:
        return self._container.get_blob_client(self._prefix + key)

    @contextlib.contextmanager
    def _errors(
        self,
        key: str,
        *,
        missing: type[ObjectNotFoundError | PreconditionFailedError] | None = None,
    ) -> Iterator[None]:
        """Turns the service's answers into the store's errors: a lost conditional write, a
        missing blob (as `missing`), a missing container, or any other failure, in one line."""
        from azure.core.exceptions import (
            AzureError,
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        try:
            yield
        except (ResourceExistsError, ResourceModifiedError):
            raise PreconditionFailedError(key) from None
        except ResourceNotFoundError as error:
            if getattr(error, "error_code", None) == "ContainerNotFound":
                raise RegistryError(
                    f"container {self._container.container_name!r} of registry {self._uri} "
                    "does not exist"
                ) from None
            if missing is None:
                raise RegistryError(f"registry {self._uri}: {key!r}: {error.message}") from None
            raise missing(key) from None
        except AzureError as error:
            raise RegistryError(f"registry {self._uri}: {key!r}: {error.message}") from None
