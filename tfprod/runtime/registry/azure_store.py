"""`az://container/prefix` backend (azure-storage-blob, imported when the store is opened).

The account comes from the `AZURE_STORAGE_CONNECTION_STRING` environment variable (for Azurite,
its well-known development connection string). Create-only writes send `If-None-Match: *`
and compare-and-swap sends `If-Match: <ETag>`; the service answers 409 or 412 to the loser.
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

    def list(self, prefix: str) -> list[str]:
        with self._errors(prefix):
            names = self._container.list_blob_names(name_starts_with=self._prefix + prefix)
            return sorted(name[len(self._prefix) :] for name in names)

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
