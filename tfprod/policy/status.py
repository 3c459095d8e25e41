"""The status document: a deployment's live weights and rollout state, in one place.

The Policy says what was declared; the status says what runs now. It lives in the
`<deployment>-status` ConfigMap under `STATUS_KEY` in a cluster, and in the file
`<status dir>/<deployment>-status.json` locally (`status_file_name`). Every gateway replica
follows it and reports the `generation` it serves, so a writer knows when all replicas have a
change. The controller owns the `rollout` section; until it runs, writers leave it at its
defaults. Without a status document a gateway serves the declared weights (generation 0).

Writes locally are atomic (`write_status`: a temp file in the same directory, fsync,
`os.replace`), so a reader sees the old document or the new one, never half of either.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.document import SCHEMA_VERSION, Policy
from tfprod.policy.errors import PolicyError
from tfprod.policy.files import policy_json, status_configmap_name
from tfprod.policy.rollout_state import RolloutState
from tfprod.policy.versions import check_version_id, weights_problem

STATUS_KEY = "status.json"
"""Key of the status ConfigMap holding the document."""


class DeploymentStatus(PolicyModel):
    """The live state of one deployment. Weights are percent per version id, as the Policy's
    `traffic.weights`, and sum to 100."""

    schema_version: Literal["tfprod.dev/v1alpha1"] = SCHEMA_VERSION
    """Version of this document's format."""
    deployment: str
    """The deployment's name (the Policy's `name`)."""
    generation: int = Field(ge=1)
    """Grows by one with every write; gateways report the generation they serve."""
    weights: dict[str, float]
    """Percent of live requests per version id; sums to 100."""
    policy_digest: str
    """`policy_digest()` of the Policy these weights were computed against."""
    rollout: RolloutState = RolloutState()
    """Rollout state, owned by the controller. Default: no rollout."""
    updated_at: datetime
    """When this generation was written (UTC)."""
    writer: str
    """Who wrote it, e.g. "controller" or "gateway admin API on host:pid"."""

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for version in value:
            check_version_id(version, "weight key")
        problem = weights_problem(value)
        if problem is not None:
            raise invalid(problem)
        return value


def policy_digest(policy: Policy) -> str:
    """sha256 of the policy's shipped text (`policy_json`), as `sha256:<hex>`."""
    return "sha256:" + hashlib.sha256(policy_json(policy).encode()).hexdigest()


def status_file_name(deployment: str) -> str:
    """File name of the status of `deployment` in a local status directory."""
    return f"{status_configmap_name(deployment)}.json"


def status_json(status: DeploymentStatus) -> str:
    """The status as written to files and ConfigMaps: two-space indent, final newline."""
    return status.model_dump_json(indent=2) + "\n"


def next_status(
    current: DeploymentStatus | None,
    *,
    deployment: str,
    weights: dict[str, float],
    policy: str,
    writer: str,
    now: datetime | None = None,
) -> DeploymentStatus:
    """The status after `current` with new `weights` (rollout state kept, generation + 1)."""
    return DeploymentStatus(
        deployment=deployment,
        generation=1 if current is None else current.generation + 1,
        weights=weights,
        policy_digest=policy,
        rollout=RolloutState() if current is None else current.rollout,
        updated_at=now or datetime.now(UTC),
        writer=writer,
    )


def parse_status(text: str | bytes, where: str) -> DeploymentStatus:
    """Parse a status document; PolicyError names `where` and the first problem."""
    try:
        document: Any = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise PolicyError(f"{where} is not JSON: {error}") from None
    try:
        return DeploymentStatus.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "status"
        raise PolicyError(f"{where}: {field}: {first['msg']}") from None


def read_status(path: Path) -> DeploymentStatus | None:
    """The status in `path`, or None when there is no such file (declared weights apply)."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise PolicyError(f"cannot read {path}: {error.strerror}") from None
    return parse_status(text, str(path))


def write_status(path: Path, status: DeploymentStatus) -> None:
    """Replace `path` with `status` atomically: temp file in the same directory, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(status_json(status))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def status_write_lock(path: Path) -> Iterator[None]:
    """Holds the lock every local writer of the status file `path` takes (the controller and
    the gateways' admin APIs), so two writers never write the same generation."""
    lock = path.with_name(f".{path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
