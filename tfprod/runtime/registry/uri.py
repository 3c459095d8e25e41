"""Registry URIs: `file://PATH`, `s3://BUCKET[/PREFIX]`, `gs://BUCKET[/PREFIX]`,
`az://ACCOUNT/CONTAINER[/PREFIX]` (the storage account, then the blob container), each opened as
the matching `ObjectStore`."""

from __future__ import annotations

from pathlib import Path

from tfprod.runtime.registry.errors import RegistryError
from tfprod.runtime.registry.store import ObjectStore

SCHEMES = ("file", "s3", "gs", "az")


def open_store(uri: str) -> ObjectStore:
    """The store behind `uri`. Cloud SDKs are imported only for their own scheme."""
    scheme, separator, rest = uri.partition("://")
    if not separator or scheme not in SCHEMES:
        allowed = ", ".join(f"{name}://" for name in SCHEMES)
        raise RegistryError(f"unsupported registry URI {uri!r}: use one of {allowed}")
    if scheme == "file":
        if not rest:
            raise RegistryError(f"registry URI {uri!r} names no directory")
        from tfprod.runtime.registry.file_store import FileStore

        return FileStore(Path(rest), uri=uri)
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise RegistryError(f"registry URI {uri!r} names no bucket or container")
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    if scheme == "s3":
        from tfprod.runtime.registry.s3_store import S3Store

        return S3Store(bucket, prefix, uri=uri)
    if scheme == "gs":
        from tfprod.runtime.registry.gcs_store import GcsStore

        return GcsStore(bucket, prefix, uri=uri)
    from tfprod.runtime.registry.azure_store import AzureStore

    container, _, prefix = prefix.partition("/")
    if not container:
        raise RegistryError(
            f"registry URI {uri!r} names no container: use az://ACCOUNT/CONTAINER[/PREFIX]"
        )
    return AzureStore(bucket, container, prefix, uri=uri)
