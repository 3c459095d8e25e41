"""Where the controller reads and writes a deployment's status document.

Locally, the status file the gateway follows (`<status dir>/<deployment>-status.json`),
written atomically with `tfprod.policy.write_status` under the same lock as the gateway's
admin API takes, so the two never write one generation. In a cluster, the `<deployment>-status`
ConfigMap through `tfprod.runtime.kube.ConfigMapStatusStore` (resourceVersion checks, retries
on 409, refused unless this controller holds the Lease). Both are synchronous; the loop runs
them in a thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tfprod.policy import DeploymentStatus, read_status, write_status
from tfprod.policy.status import parse_status, status_file_name, status_json, status_write_lock
from tfprod.runtime.kube import ConfigMapStatusStore


class StatusStore(Protocol):
    """One deployment's status document."""

    @property
    def where(self) -> str:
        """Where it lives, for messages."""
        ...

    def read(self) -> DeploymentStatus | None:
        """The document, or None when there is none yet (the declared weights apply)."""
        ...

    def write(self, status: DeploymentStatus) -> None:
        """Replace the document with `status` (its generation is newer)."""
        ...


class FileStatusStore:
    """The status file of `deployment` in `directory`, as `tfprod gateway --status-dir` reads."""

    def __init__(self, directory: Path, deployment: str) -> None:
        self.path = directory / status_file_name(deployment)

    @property
    def where(self) -> str:
        return str(self.path)

    def read(self) -> DeploymentStatus | None:
        return read_status(self.path)

    def write(self, status: DeploymentStatus) -> None:
        with status_write_lock(self.path):
            write_status(self.path, status)


class ConfigMapStore:
    """The status ConfigMap of one deployment, through `ConfigMapStatusStore`."""

    def __init__(self, store: ConfigMapStatusStore) -> None:
        self._store = store

    @property
    def where(self) -> str:
        return f"ConfigMap {self._store.where}"

    def read(self) -> DeploymentStatus | None:
        text = self._store.read_status()
        return None if text is None else parse_status(text, self.where)

    def write(self, status: DeploymentStatus) -> None:
        self._store.write_status(status_json(status))
