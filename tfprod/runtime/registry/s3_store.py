"""`s3://bucket/prefix` backend (boto3, imported when the store is opened).

The endpoint, region and credentials come from boto3's standard sources, so
`AWS_ENDPOINT_URL` points it at a local server such as moto's. Create-only writes use
`If-None-Match: *` and compare-and-swap uses `If-Match: <ETag>`; S3 answers 412 (or 409 when
two conditional writes race) to the loser.
"""

from __future__ import annotations

from typing import Any

from tfprod.runtime.registry.errors import ObjectNotFoundError, PreconditionFailedError
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
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise ObjectNotFoundError(key) from None
            raise
        return StoredObject(data=response["Body"].read(), token=response["ETag"])

    def put_if_absent(self, key: str, data: bytes) -> str:
        return self._put(key, data, IfNoneMatch="*")

    def put_if_match(self, key: str, data: bytes, token: str) -> str:
        return self._put(key, data, IfMatch=token)

    def list(self, prefix: str) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
            keys.extend(item["Key"][len(self._prefix) :] for item in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._prefix + key)

    def _put(self, key: str, data: bytes, **condition: str) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self._client.put_object(
                Bucket=self._bucket, Key=self._prefix + key, Body=data, **condition
            )
        except ClientError as error:
            if _code(error) in _LOST_RACE or ("IfMatch" in condition and _code(error) in _MISSING):
                raise PreconditionFailedError(key) from None
            raise
        etag: str = response["ETag"]
        return etag


def _code(error: Any) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code
