"""The model registry: immutable, checksummed model versions and aliases in an object store
(the layout is in `layout`).

Every upload goes to a fresh upload id, and the commit record, written last and create-only,
names the one upload that became the version. Readers only follow commit records, so an upload
that dies midway (or loses a race to publish the same version) is never visible, and a
version cannot be published twice; `gc` removes such uploads later. Artifact files stream
through the store in bounded chunks, checksummed on the way. Alias documents change only
through compare-and-swap; each keeps the last `alias_history_limit` changes and counts the
ones it dropped.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.runtime.registry.cas import encode, update_json
from tfprod.runtime.registry.errors import (
    ChecksumMismatchError,
    NoRegistryError,
    NotFoundError,
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
    VersionExistsError,
)
from tfprod.runtime.registry.housekeeping import OrphanUpload, collect_orphans
from tfprod.runtime.registry.layout import (
    ALIAS,
    FORMAT,
    MARKER_KEY,
    NAME,
    VERSION,
    alias_key,
    aliases_prefix,
    check,
    commit_key,
    commits_prefix,
    serving_versions_key,
    sha256,
    upload_key,
)
from tfprod.runtime.registry.local import (
    install_atomically,
    record_serving_version,
    verify_local,
)
from tfprod.runtime.registry.records import AliasChange, FileEntry, ModelVersion
from tfprod.runtime.registry.savedmodel import check_saved_model_dir, read_signatures, save_model
from tfprod.runtime.registry.store import ObjectStore
from tfprod.runtime.registry.streams import HashingReader, HashingWriter
from tfprod.runtime.registry.uri import open_store

if TYPE_CHECKING:
    from tfprod.policy.profile import ReferenceProfile

DEFAULT_ALIAS_HISTORY_LIMIT = 1000
"""How many changes an alias document keeps by default; older ones are dropped and counted
(`dropped_alias_changes`). Pass `alias_history_limit=None` to keep every change."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Registry:
    """Model registry on any `ObjectStore`; `Registry.open(uri)` picks the store by URI."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        clock: Callable[[], str] = utc_now,
        alias_history_limit: int | None = DEFAULT_ALIAS_HISTORY_LIMIT,
    ) -> None:
        if alias_history_limit is not None and alias_history_limit < 1:
            raise RegistryError(
                f"alias_history_limit {alias_history_limit!r} must be at least 1, or None to "
                "keep every change"
            )
        self._store = store
        self._clock = clock
        self._alias_history_limit = alias_history_limit

    @classmethod
    def open(
        cls, uri: str, *, alias_history_limit: int | None = DEFAULT_ALIAS_HISTORY_LIMIT
    ) -> Registry:
        return cls(open_store(uri), alias_history_limit=alias_history_limit)

    @property
    def uri(self) -> str:
        return self._store.uri

    def register(
        self,
        model: Path | str | Any,
        *,
        name: str,
        version: str,
        metadata: Mapping[str, Any] | None = None,
        dataset_version: str | None = None,
        metrics: Mapping[str, float] | None = None,
        reference_data: Any = None,
        on_file_uploaded: Callable[[str], None] | None = None,
    ) -> ModelVersion:
        """Publishes `model` (a SavedModel directory, or a trackable TensorFlow object that is
        exported first) as `version` of `name`.

        `reference_data` (a 2-D array or a mapping of columns, see `build_profile`) is
        profiled and stored for drift detection; leaving it out stores no profile.
        `on_file_uploaded` is called with each artifact file's path once it is stored, for
        progress reporting. Raises `VersionExistsError` if the version is already published."""
        check(name, NAME, "model name")
        check(version, VERSION, "version")
        free_form = dict(metadata or {})
        _check_json(free_form, "metadata")
        metric_values = _metrics(metrics or {})
        if self._commit_exists(name, version):
            raise VersionExistsError(name, version)
        profile_bytes = None
        if reference_data is not None:
            from tfprod.policy.profile import DRIFT_EDGES, build_profile

            profile = build_profile(reference_data, drift_edges=DRIFT_EDGES)
            profile_bytes = encode(profile.to_json())
        with contextlib.suppress(PreconditionFailedError):
            self._store.put_if_absent(MARKER_KEY, encode({"format": FORMAT}))
        with contextlib.ExitStack() as cleanup:
            if isinstance(model, Path | str):
                source = Path(model)
            else:
                source = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
                save_model(model, source)
            return self._publish(
                source,
                name=name,
                version=version,
                free_form=free_form,
                dataset_version=dataset_version,
                metrics=metric_values,
                profile_bytes=profile_bytes,
                on_file_uploaded=on_file_uploaded,
            )

    def models(self) -> list[str]:
        """Names of the models with a published version. Raises `NoRegistryError` if the URI
        holds no registry at all (nothing was ever pushed there: likely a mistyped URI)."""
        names = {
            key.split("/")[1]
            for key in self._store.list("models/")
            if key.split("/")[2:3] == ["commits"]
        }
        if not names:
            self._require_registry()
        return sorted(names)

    def versions(self, name: str) -> list[ModelVersion]:
        """Published versions of `name`, oldest first; empty if it has none (and
        `NoRegistryError` if the URI holds no registry)."""
        check(name, NAME, "model name")
        found = [self._load(name, version) for version in self._version_names(name)]
        if not found:
            self._require_registry()
        return sorted(found, key=lambda item: item.serving_version)

    def gc(self, *, older_than_seconds: float, delete: bool = False) -> list[OrphanUpload]:
        """Uploads that no commit record names and that nothing was written to for
        `older_than_seconds` (uploads killed midway, or that lost a race to publish): listed,
        and removed only when `delete` is true. A committed version is never touched."""
        self._require_registry()
        return collect_orphans(self._store, older_than_seconds=older_than_seconds, delete=delete)

    def get(self, name: str, ref: str) -> ModelVersion:
        """The version named `ref`, or else the version the alias `ref` points to."""
        return self._load(name, self.resolve(name, ref))

    def resolve(self, name: str, ref: str) -> str:
        """The version string `ref` stands for: itself if it is a version, else its alias."""
        check(name, NAME, "model name")
        if VERSION.fullmatch(ref) and self._commit_exists(name, ref):
            return ref
        if ALIAS.fullmatch(ref):
            try:
                alias = json.loads(self._store.get(alias_key(name, ref)).data)
            except ObjectNotFoundError:
                pass
            else:
                version: str = alias["version"]
                return version
        versions = self._version_names(name)
        if not versions:
            self._require_registry()
            raise NotFoundError(f"model {name!r} in {self.uri}", available=self.models())
        available = [*versions, *self.aliases(name)]
        raise NotFoundError(f"version or alias {ref!r} of model {name!r}", available=available)

    def aliases(self, name: str) -> dict[str, str]:
        """Alias -> version for every alias of `name`."""
        check(name, NAME, "model name")
        found: dict[str, str] = {}
        for key in self._store.list(aliases_prefix(name)):
            document = json.loads(self._store.get(key).data)
            found[document["alias"]] = document["version"]
        return dict(sorted(found.items()))

    def alias_history(self, name: str, alias: str) -> list[AliasChange]:
        """The kept changes of `alias`, oldest first: every change, less the oldest ones
        dropped by the retention limit in force when later changes were made
        (`dropped_alias_changes` counts them)."""
        return [AliasChange(**change) for change in self._alias_document(name, alias)["history"]]

    def dropped_alias_changes(self, name: str, alias: str) -> int:
        """How many of the oldest changes of `alias` the retention limit dropped."""
        dropped: int = self._alias_document(name, alias).get("dropped", 0)
        return dropped

    def _alias_document(self, name: str, alias: str) -> dict[str, Any]:
        check(name, NAME, "model name")
        try:
            document: dict[str, Any] = json.loads(self._store.get(alias_key(name, alias)).data)
        except ObjectNotFoundError:
            raise NotFoundError(
                f"alias {alias!r} of model {name!r}", available=self.aliases(name)
            ) from None
        return document

    def set_alias(self, name: str, alias: str, version: str, *, reason: str = "") -> None:
        """Points `alias` (e.g. `stable`, `canary`) at a published `version`. Concurrent
        updates are serialized by compare-and-swap; each is recorded in the alias history."""
        check(name, NAME, "model name")
        check(alias, ALIAS, "alias")
        if not self._commit_exists(name, version):
            raise NotFoundError(
                f"version {version!r} of model {name!r}", available=self._version_names(name)
            )
        change = {"version": version, "at": self._clock(), "reason": reason}

        limit = self._alias_history_limit

        def apply(document: dict[str, Any] | None) -> dict[str, Any]:
            if document is None:
                history, dropped = [change], 0
            else:
                history, dropped = [*document["history"], change], document.get("dropped", 0)
            cut = 0 if limit is None else max(0, len(history) - limit)
            return {
                "alias": alias,
                "version": version,
                "history": history[cut:],
                "dropped": dropped + cut,
            }

        update_json(self._store, alias_key(name, alias), apply)

    def reference_profile(self, name: str, ref: str) -> ReferenceProfile:
        """The reference profile stored with a version; `NotFoundError` if it has none."""
        from tfprod.policy.profile import ReferenceProfile

        version = self.resolve(name, ref)
        commit, manifest = self._commit_and_manifest(name, version)
        if manifest["profile_sha256"] is None:
            raise NotFoundError(f"reference profile of model {name!r} version {version!r}")
        data = self._verified(
            upload_key(name, version, commit["upload_id"], "profile.json"),
            manifest["profile_sha256"],
            label=f"profile.json of model {name!r} version {version!r}",
        )
        return ReferenceProfile.from_json(json.loads(data))

    def pull(self, name: str, ref: str, base_dir: Path) -> Path:
        """Downloads a version into `base_dir/<name>/<serving version>/`, the layout TF
        Serving watches, and returns that directory. Every file is checked against its
        sha256 before the directory appears (it is filled under a temporary name and renamed),
        so a server never loads a partial or tampered version. Pulling a version that is
        already there and intact does nothing."""
        version = self._load(name, self.resolve(name, ref))
        model_dir = base_dir / name
        target = model_dir / str(version.serving_version)
        if not install_atomically(target, lambda staging: self._download(version, staging)):
            verify_local(version, target)  # downloaded earlier, or by a concurrent pull
        record_serving_version(model_dir, version)
        return target

    def _publish(
        self,
        source: Path,
        *,
        name: str,
        version: str,
        free_form: dict[str, Any],
        dataset_version: str | None,
        metrics: dict[str, float],
        profile_bytes: bytes | None,
        on_file_uploaded: Callable[[str], None] | None,
    ) -> ModelVersion:
        check_saved_model_dir(source)
        signature = read_signatures(source)
        upload_id = uuid.uuid4().hex
        files: list[FileEntry] = []
        for path in sorted(item for item in source.rglob("*") if item.is_file()):
            relative = path.relative_to(source).as_posix()
            key = upload_key(name, version, upload_id, f"artifact/{relative}")
            with path.open("rb") as raw:
                reader = HashingReader(raw)
                self._store.put_file_if_absent(key, reader, size=path.stat().st_size)
            files.append(FileEntry(path=relative, sha256=reader.sha256, size=reader.size))
            if on_file_uploaded is not None:
                on_file_uploaded(relative)
        created_at = self._clock()
        metadata_bytes = encode(
            {
                "name": name,
                "version": version,
                "created_at": created_at,
                "dataset_version": dataset_version,
                "metrics": metrics,
                "signature": signature,
                "metadata": free_form,
            }
        )
        self._store.put_if_absent(
            upload_key(name, version, upload_id, "metadata.json"), metadata_bytes
        )
        if profile_bytes is not None:
            self._store.put_if_absent(
                upload_key(name, version, upload_id, "profile.json"), profile_bytes
            )
        manifest_bytes = encode(
            {
                "format": FORMAT,
                "files": [
                    {"path": item.path, "sha256": item.sha256, "size": item.size} for item in files
                ],
                "metadata_sha256": sha256(metadata_bytes),
                "profile_sha256": None if profile_bytes is None else sha256(profile_bytes),
            }
        )
        self._store.put_if_absent(
            upload_key(name, version, upload_id, "manifest.json"), manifest_bytes
        )
        serving_version = self._allocate_serving_version(name, version)
        commit = {
            "format": FORMAT,
            "name": name,
            "version": version,
            "upload_id": upload_id,
            "manifest_sha256": sha256(manifest_bytes),
            "serving_version": serving_version,
            "created_at": created_at,
        }
        try:
            self._store.put_if_absent(commit_key(name, version), encode(commit))
        except PreconditionFailedError:
            self._delete_upload(name, version, upload_id)
            raise VersionExistsError(name, version) from None
        return self._load(name, version)

    def _allocate_serving_version(self, name: str, version: str) -> int:
        """The TF Serving number of `version`: the next free one, or the one given to an
        earlier, unfinished upload of the same version (so a retried upload keeps it)."""

        def apply(document: dict[str, Any] | None) -> dict[str, Any]:
            numbers: dict[str, int] = {} if document is None else document["versions"]
            if version in numbers:
                return {"versions": numbers}
            return {"versions": {**numbers, version: max(numbers.values(), default=0) + 1}}

        document = update_json(self._store, serving_versions_key(name), apply)
        number: int = document["versions"][version]
        return number

    def _delete_upload(self, name: str, version: str, upload_id: str) -> None:
        for key in self._store.list(upload_key(name, version, upload_id, "")):
            self._store.delete(key)

    def _require_registry(self) -> None:
        try:
            self._store.get(MARKER_KEY)
        except ObjectNotFoundError:
            if not self._store.list("models/"):
                raise NoRegistryError(self.uri) from None

    def _commit_exists(self, name: str, version: str) -> bool:
        try:
            self._store.get(commit_key(name, version))
        except ObjectNotFoundError:
            return False
        return True

    def _version_names(self, name: str) -> list[str]:
        prefix = commits_prefix(name)
        return [key[len(prefix) : -len(".json")] for key in self._store.list(prefix)]

    def _commit_and_manifest(
        self, name: str, version: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            commit = json.loads(self._store.get(commit_key(name, version)).data)
        except ObjectNotFoundError:
            raise NotFoundError(
                f"version {version!r} of model {name!r}", available=self._version_names(name)
            ) from None
        manifest_bytes = self._verified(
            upload_key(name, version, commit["upload_id"], "manifest.json"),
            commit["manifest_sha256"],
            label=f"manifest.json of model {name!r} version {version!r}",
        )
        return commit, json.loads(manifest_bytes)

    def _load(self, name: str, version: str) -> ModelVersion:
        commit, manifest = self._commit_and_manifest(name, version)
        metadata = json.loads(
            self._verified(
                upload_key(name, version, commit["upload_id"], "metadata.json"),
                manifest["metadata_sha256"],
                label=f"metadata.json of model {name!r} version {version!r}",
            )
        )
        return ModelVersion(
            name=name,
            version=version,
            serving_version=commit["serving_version"],
            created_at=commit["created_at"],
            dataset_version=metadata["dataset_version"],
            metrics=metadata["metrics"],
            signature=metadata["signature"],
            metadata=metadata["metadata"],
            files=tuple(FileEntry(**item) for item in manifest["files"]),
            has_profile=manifest["profile_sha256"] is not None,
        )

    def _verified(self, key: str, expected: str, *, label: str) -> bytes:
        data = self._store.get(key).data
        actual = sha256(data)
        if actual != expected:
            raise ChecksumMismatchError(label, expected=expected, actual=actual)
        return data

    def _download(self, version: ModelVersion, staging: Path) -> None:
        upload_id = json.loads(self._store.get(commit_key(version.name, version.version)).data)[
            "upload_id"
        ]
        for item in version.files:
            destination = staging / item.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            with destination.open("wb") as raw:
                writer = HashingWriter(raw)
                self._store.download(
                    upload_key(version.name, version.version, upload_id, f"artifact/{item.path}"),
                    writer,
                )
            if writer.sha256 != item.sha256:
                raise ChecksumMismatchError(
                    f"{item.path} of model {version.name!r} version {version.version!r}",
                    expected=item.sha256,
                    actual=writer.sha256,
                )


def pull_artifact(artifact: str, base_dir: Path) -> Path:
    """Pulls the version a Policy names by its artifact URI
    (`<registry>/models/<model>/versions/<version>`, see `tfprod.policy.artifact_uri`) into
    `base_dir`, as `Registry.pull` does; this is what a model server's init container runs."""
    from tfprod.policy import PolicyError, split_artifact_uri

    try:
        root, model, version = split_artifact_uri(artifact)
    except PolicyError as error:
        raise RegistryError(str(error)) from None
    return Registry.open(root).pull(model, version, base_dir)


def _metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    values: dict[str, float] = {}
    for key, value in metrics.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise RegistryError(f"metric {key!r} must be a finite number, got {value!r}")
        values[str(key)] = float(value)
    return values


def _check_json(value: Any, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise RegistryError(f"{what} must be JSON-serializable without NaN: {error}") from None
