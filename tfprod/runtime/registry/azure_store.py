"""`az://container/prefix` backend (azure-storage-blob, imported when the store is opened).

The account comes from the `AZURE_STORAGE_CONNECTION_STRING` environment variable (for Azurite,
its well-known development connection string). Create-only writes send `If-None-Match: *`
and compare-and-swap sends `If-Match: <ETag>`; the service answers 409 or 412 to the loser.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from tfprod.runtime.registry.errors import (
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
)
from tfprod.runtime.registry.store import StoredObject

CONNECTION_STRING_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"


class AzureStore:
    """Objects under `prefix` in an existing blob `container`."""

    def __init__(self, container: str, prefix: str, *, uri: str) -> None:
        from azure.storage.blob import BlobServiceClient

        connection_string = os.environ.get(CONNECTION_STRING_VARIABLE)
        if not connection_string:
            raise RegistryError(
                f"registry {uri} needs the {CONNECTION_STRING_VARIABLE} environment variable "
                "(the storage account's connection string)"
            )
        service = BlobServiceClient.from_connection_string(connection_string)
        self._container: Any = service.get_container_client(container)
        self._prefix = prefix
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, key: str) -> StoredObject:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self._container.download_blob(self._prefix + key)
        except ResourceNotFoundError:
            raise ObjectNotFoundError(key) from None
        data: bytes = downloader.readall()
        return StoredObject(data=data, token=downloader.properties.etag)

    def put_if_absent(self, key: str, data: bytes) -> str:
        from azure.core.exceptions import ResourceExistsError

        try:
            result = self._blob(key).upload_blob(data, overwrite=False)
        except ResourceExistsError:
            raise PreconditionFailedError(key) from None
        etag: str = result["etag"]
        return etag

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        try:
            result = self._blob(key).upload_blob(
                data,
                overwrite=True,
                etag=token,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceExistsError, ResourceNotFoundError):
            raise PreconditionFailedError(key) from None
        etag: str = result["etag"]
        return etag

    def list(self, prefix: str) -> list[str]:
        names = self._container.list_blob_names(name_starts_with=self._prefix + prefix)
        return sorted(name[len(self._prefix) :] for name in names)

    def delete(self, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            self._container.delete_blob(self._prefix + key)

    def _blob(self, key: str) -> Any:
        return self._container.get_blob_client(self._prefix + key)
