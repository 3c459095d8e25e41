"""`s3://bucket/prefix` backend (boto3, imported when the store is opened).

The endpoint, region and credentials come from boto3's default chain: in a cluster, IRSA's
web identity (`AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`, exchanged through STS
`AssumeRoleWithWebIdentity`); static keys in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` only as
an explicit local override; `AWS_ENDPOINT_URL` points S3 and STS at a local server such as
moto's. Create-only writes use `If-None-Match: *` and compare-and-swap uses `If-Match: <ETag>`;
S3 answers 412 (or 409 when two conditional writes race) to the loser. Files larger than one
chunk go up as a multipart upload whose completion carries `If-None-Match: *`; a multipart
upload that fails is aborted (one whose process is killed is left to the bucket's
`AbortIncompleteMultipartUpload` lifecycle rule).
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
from tfprod.runtime.registry.streams import CHUNK_SIZE, Sink, Source, first_chunk, send_chunks

_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_MISSING = frozenset({"NoSuchKey", "404"})


class S3Store:
    """Objects under `prefix` in an existing `bucket`."""

    def __init__(self, bucket: str, prefix: str, *, uri: str) -> None:
        import boto3

        # A session of its own: the default session caches the credentials it resolved first.
        self._client: Any = boto3.session.Session().client("s3")
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

    def put_file_if_absent(self, key: str, source: Source, *, size: int) -> None:
        chunk, last = first_chunk(source)
        if last:
            self.put_if_absent(key, chunk)
            return
        with self._errors(key):
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._prefix + key
            )["UploadId"]
        try:

            def send(index: int, part: bytes) -> dict[str, Any]:
                with self._errors(key):
                    response = self._client.upload_part(
                        Bucket=self._bucket,
                        Key=self._prefix + key,
                        UploadId=upload_id,
                        PartNumber=index + 1,
                        Body=part,
                    )
                return {"PartNumber": index + 1, "ETag": response["ETag"]}

            parts = send_chunks(chunk, source, send)
            with self._errors(key):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._prefix + key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )
        except BaseException:
            with contextlib.suppress(Exception):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._prefix + key, UploadId=upload_id
                )
            raise

    def download(self, key: str, sink: Sink) -> None:
        with self._errors(key, missing=ObjectNotFoundError):
            response = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
            for chunk in response["Body"].iter_chunks(CHUNK_SIZE):
                sink.write(chunk)

    def list(self, prefix: str) -> list[str]:
        return sorted(self.list_modified(prefix))

    def list_modified(self, prefix: str) -> dict[str, float]:
        paginator = self._client.get_paginator("list_objects_v2")
        modified: dict[str, float] = {}
        with self._errors(prefix):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix):
                for item in page.get("Contents", []):
                    modified[item["Key"][len(self._prefix) :]] = item["LastModified"].timestamp()
        return dict(sorted(modified.items()))

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
