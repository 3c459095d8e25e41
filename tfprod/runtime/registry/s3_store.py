"""`s3://bucket/prefix` backend (boto3, imported when the store is opened).

The endpoint, region and credentials come from boto3's standard sources, so
`AWS_ENDPOINT_URL` points it at a local server such as moto's. Create-only writes use
`If-None-Match: *` and compare-and-swap uses `If-Match: <ETag>`; S3 answers 412 (or 409 when
two conditional writes race) to the loser.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tfprod.runtime.registry.errors import (
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
)
from tfprod.runtime.registry.store import StoredObject

_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_MISSING = frozenset({"NoSuchKey", "404"})


class S3Store:
    """Objects under `prefix` in an existing `bucket`."""

    def __init__(self, bucket: str, prefix: str, *, uri: str) -> None:
        import boto3

        self._client: Any = boto3.client("s3")
        self._bucket = bucket
        self._prefix = prefix
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, key: str) -> StoredObject:
        with self._errors(key, missing=ObjectNotFoundError):
            response = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
            return StoredObject(data=response["Body"].read(), token=response["ETag"])

    def put_if_absent(self, key: str, data: bytes) -> str:
        with self._errors(key):
            return self._put(key, data, IfNoneMatch="*")

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        with self._errors(key, missing=PreconditionFailedError):
            return self._put(key, data, IfMatch=token)

    def list(self, prefix: str) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        keys: list[str] = []
        with self._errors(prefix):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                keys.extend(item["Key"][len(self._prefix) :] for item in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        with self._errors(key):
            self._client.delete_object(Bucket=self._bucket, Key=self._prefix + key)

    def _put(self, key: str, data: bytes, **condition: str) -> str:
        response = self._client.put_object(
            Bucket=self._bucket, Key=self._prefix + key, Body=data, **condition
        )
        etag: str = response["ETag"]
        return etag

    @contextlib.contextmanager
    def _errors(
        self,
        key: str,
        *,
        missing: type[ObjectNotFoundError | PreconditionFailedError] | None = None,
    ) -> Iterator[None]:
        """Turns S3's answers into the store's errors: a lost conditional write, a missing
        key (as `missing`), a missing bucket, or any other failure, in one line."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _LOST_RACE:
                raise PreconditionFailedError(key) from None
            if code in _MISSING and missing is not None:
                raise missing(key) from None
            if code == "NoSuchBucket":
                raise RegistryError(
                    f"bucket {self._bucket!r} of registry {self._uri} does not exist"
                ) from None
            raise RegistryError(f"registry {self._uri}: {key!r}: {error}") from None
        except BotoCoreError as error:
            raise RegistryError(f"registry {self._uri} is unreachable: {error}") from None
