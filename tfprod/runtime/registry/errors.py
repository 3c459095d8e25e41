"""Errors raised by the registry, each saying what is wrong in the user's terms."""

from __future__ import annotations

from collections.abc import Iterable


class RegistryError(Exception):
    """Base class of every error the registry raises on purpose."""


class NoRegistryError(RegistryError):
    """The URI holds no registry: nothing was ever pushed there (often a mistyped URI)."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"no registry at {uri}: nothing was ever pushed there; check the URI")
        self.uri = uri


class NotFoundError(RegistryError):
    """A model, version, alias or object does not exist; the message lists what does."""

    def __init__(self, what: str, *, available: Iterable[str] = ()) -> None:
        listed = sorted(available)
        shown = ", ".join(listed) if listed else "none"
        super().__init__(f"{what} not found; available: {shown}")
        self.available = tuple(listed)


class VersionExistsError(RegistryError):
    """A version was registered again: published versions are immutable."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__(
            f"model {name!r} version {version!r} is already published and versions are "
            "immutable; register it under a new version"
        )
        self.name = name
        self.version = version


class ChecksumMismatchError(RegistryError):
    """A stored file's content does not match the sha256 recorded at registration."""

    def __init__(self, path: str, *, expected: str, actual: str) -> None:
        super().__init__(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}; "
            "the stored artifact was modified or corrupted after it was published"
        )
        self.path = path
        self.expected = expected
        self.actual = actual


class ConcurrentUpdateError(RegistryError):
    """A compare-and-swap update kept losing to concurrent writers and gave up."""


class ObjectNotFoundError(RegistryError):
    """The store holds no object under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object {key!r} in the store")
        self.key = key


class PreconditionFailedError(RegistryError):
    """A conditional write lost: the object exists (create-only) or changed (if-match)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"conditional write of {key!r} lost to a concurrent writer")
        self.key = key
