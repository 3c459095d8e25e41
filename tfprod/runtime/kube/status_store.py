"""The status ConfigMap (`<deployment>-status`): read, create, update with resourceVersion checks.

The counterpart in a cluster of the local status file (`read_status` / `write_status`): the
same two operations, plus `update_status(change)`, the read-modify-write the controller uses.
Every write carries the `metadata.resourceVersion` it read, so the API server refuses it with
409 Conflict when anyone wrote in between; the store then re-reads and re-applies `change` to
what is there now, a bounded number of times, and past that raises `StatusStoreError`.

Documents are the status JSON text kept under one data key; the store reads only its
`generation`, and refuses a write that does not make it grow (gateway replicas report the
generation they serve, so a write that kept it would never be seen as done).

Writes are JSON merge patches of that one data key: labels, annotations and other keys that
someone else put on the ConfigMap stay as they are.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from kubernetes.client import ApiClient, CoreV1Api, V1ConfigMap, V1ObjectMeta
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tfprod.policy.files import status_configmap_name

__all__ = ["ConfigMapStatusStore", "StatusStoreError", "StoredStatus"]

MANAGED_BY = {"app.kubernetes.io/managed-by": "tfprod-controller"}
"""Label on the status ConfigMaps the store creates: not Terraform's, the controller's."""

_MERGE_PATCH = "application/merge-patch+json"


class StatusStoreError(Exception):
    """The status ConfigMap could not be read or written; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class StoredStatus:
    """A status document as stored, with the version the API server gave it."""

    text: str
    """The status JSON text."""
    generation: int
    """The document's `generation`."""
    resource_version: str
    """The ConfigMap's `metadata.resourceVersion` holding this text."""
    conflicts: int = 0
    """How many 409 Conflicts the write that stored it met and retried. 0 for a read."""


class ConfigMapStatusStore:
    """The status document of one deployment in its `<deployment>-status` ConfigMap."""

    def __init__(
        self,
        client: ApiClient,
        *,
        namespace: str,
        deployment: str,
        key: str,
        max_attempts: int = 10,
        request_timeout: float = 10.0,
        may_write: Callable[[], bool] = lambda: True,
    ) -> None:
        """- `key`: the data key holding the document (the status module's `STATUS_KEY`).
        - `max_attempts`: writes tried before giving up on conflicts. Default: 10.
        - `request_timeout`: seconds one API request may take. Default: 10.
        - `may_write`: asked before every write attempt, retries included; a write is refused
          when it says no. Pass the elector's `is_leader`, so a controller that lost the Lease
          in the middle of a retry stops writing. Default: always yes.
        """
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._api = CoreV1Api(client)
        self.namespace = namespace
        self.name = status_configmap_name(deployment)
        self.key = key
        self.max_attempts = max_attempts
        self._timeout = request_timeout
        self._may_write = may_write

    @property
    def where(self) -> str:
        """`namespace/name` of the ConfigMap, for messages."""
        return f"{self.namespace}/{self.name}"

    def read_status(self) -> str | None:
        """The status text, or None when there is no status ConfigMap (declared weights apply)."""
        stored = self.read()
        return None if stored is None else stored.text

    def write_status(self, text: str) -> StoredStatus:
        """Store `text` whatever is there now, if its generation is newer."""
        return self.update_status(lambda _current: text)

    def read(self) -> StoredStatus | None:
        """The stored document and its resourceVersion, or None when there is none yet."""
        try:
            configmap = self._api.read_namespaced_config_map(
                self.name, self.namespace, _request_timeout=self._timeout
            )
        except ApiException as error:
            if error.status == HTTPStatus.NOT_FOUND:
                return None
            raise self._failed("read", error) from None
        except HTTPError as error:
            raise self._unreachable("read", error) from None
        return self._stored(configmap, conflicts=0)

    def update_status(self, change: Callable[[str | None], str]) -> StoredStatus:
        """Store `change(current text or None)`, retrying on conflicts with the text then there.

        `change` may run several times and must only compute: no side effects.
        """
        for attempt in range(self.max_attempts):
            current = self.read()
            text = change(None if current is None else current.text)
            self._check_newer(current, text)
            if not self._may_write():
                raise StatusStoreError(
                    f"status ConfigMap {self.where}: not written: this controller may not write "
                    "now (it does not hold the leader Lease)"
                )
            try:
                written = self._create(text) if current is None else self._patch(current, text)
            except ApiException as error:
                # 409: someone wrote (or created) in between; 404: deleted in between.
                if error.status not in (HTTPStatus.CONFLICT, HTTPStatus.NOT_FOUND):
                    raise self._failed("write", error) from None
                self._back_off(attempt)
                continue
            except HTTPError as error:
                raise self._unreachable("write", error) from None
            return self._stored(written, conflicts=attempt)
        raise StatusStoreError(
            f"status ConfigMap {self.where}: gave up after {self.max_attempts} attempts, each "
            "refused because another writer changed it in between (409 Conflict)"
        )

    def _create(self, text: str) -> V1ConfigMap:
        body = V1ConfigMap(
            metadata=V1ObjectMeta(name=self.name, labels=dict(MANAGED_BY)),
            data={self.key: text},
        )
        return self._api.create_namespaced_config_map(
            self.namespace, body, _request_timeout=self._timeout
        )

    def _patch(self, current: StoredStatus, text: str) -> V1ConfigMap:
        body = {"metadata": {"resourceVersion": current.resource_version}, "data": {self.key: text}}
        return self._api.patch_namespaced_config_map(
            self.name,
            self.namespace,
            body,
            _content_type=_MERGE_PATCH,
            _request_timeout=self._timeout,
        )

    def _stored(self, configmap: V1ConfigMap, *, conflicts: int) -> StoredStatus:
        text = (configmap.data or {}).get(self.key)
        if text is None:
            raise StatusStoreError(f"status ConfigMap {self.where} has no key {self.key!r}")
        resource_version = configmap.metadata.resource_version if configmap.metadata else None
        if not resource_version:
            raise StatusStoreError(f"status ConfigMap {self.where} came without a resourceVersion")
        return StoredStatus(
            text=text,
            generation=self._generation(text),
            resource_version=resource_version,
            conflicts=conflicts,
        )

    def _generation(self, text: str) -> int:
        try:
            generation = json.loads(text).get("generation")
        except (ValueError, AttributeError):
            raise StatusStoreError(
                f"status ConfigMap {self.where}: {self.key} is not a JSON object"
            ) from None
        if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
            raise StatusStoreError(
                f"status ConfigMap {self.where}: {self.key}: generation must be an integer of at "
                f"least 1, got {generation!r}"
            )
        return generation

    def _check_newer(self, current: StoredStatus | None, text: str) -> None:
        generation = self._generation(text)
        if current is not None and generation <= current.generation:
            raise StatusStoreError(
                f"status ConfigMap {self.where}: a write must raise the generation above the "
                f"stored {current.generation}, got {generation}"
            )

    def _back_off(self, attempt: int) -> None:
        """Sleep a little, longer after each conflict, jittered so racing writers spread out."""
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))

    def _failed(self, what: str, error: ApiException) -> StatusStoreError:
        return StatusStoreError(
            f"status ConfigMap {self.where}: {what} refused by the API server: "
            f"{error.status} {error.reason}"
        )

    def _unreachable(self, what: str, error: HTTPError) -> StatusStoreError:
        return StatusStoreError(
            f"status ConfigMap {self.where}: {what} failed, API server unreachable: "
            f"{type(error).__name__}"
        )
