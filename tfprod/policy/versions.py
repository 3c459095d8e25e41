"""Which versions of the model run, in which role, and how live traffic splits between them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import field_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.errors import PolicyError

Role = Literal["stable", "canary", "challenger", "shadow", "fallback"]
"""What a version is for.

- stable: serves the traffic nobody else claims; exactly one per deployment.
- canary: a new version ramped up step by step, rolled back on failure.
- challenger: the treatment arm of an A/B test against the stable version.
- shadow: receives mirrored copies of requests; its answers never reach users.
- fallback: a known-good version the safety net routes to on rollback.
"""

ARTIFACT_SCHEMES: tuple[str, ...] = ("file", "s3", "gs", "az")
_VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_KEY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
WEIGHT_TOLERANCE = 1e-6
"""Weights are floats: sums and comparisons allow this much rounding noise (percent)."""


def check_version_id(value: str, what: str) -> str:
    """`value` if it is a valid version id, else an error naming `what` holds it."""
    if not _VERSION_ID.fullmatch(value):
        raise invalid(
            f"{what} {value!r} is not a version id: use 1 to 63 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return value


ARTIFACT_MARKER = "/models/"


def artifact_uri(registry: str, model: str, version: str) -> str:
    """Where `version` of `model` lives in the registry rooted at `registry`.

    The canonical form is `<registry root>/models/<model>/versions/<version>`; constructs write
    it and the runtime splits it back with `split_artifact_uri` to pull from the registry.
    """
    return f"{registry.rstrip('/')}{ARTIFACT_MARKER}{model}/versions/{version}"


def split_artifact_uri(uri: str) -> tuple[str, str, str]:
    """(registry root, model, version) of an artifact URI written by `artifact_uri`."""
    root, marker, rest = uri.rpartition(ARTIFACT_MARKER)
    model, versions, version = rest.partition("/versions/")
    if not marker or not root or not model or not versions or not version or "/" in version:
        raise PolicyError(
            f"artifact {uri!r} is not of the form <registry>/models/<model>/versions/<version>"
        )
    return root, model, version


class ModelVersion(PolicyModel):
    """One version of the model: its id, where its artifact lives, and its role."""

    id: str
    """Version id, unique in the deployment, e.g. "rec-v2.1.0"."""
    artifact: str
    """Registry URI of the SavedModel: file://, s3://, gs:// or az://."""
    role: Role

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return check_version_id(value, "version id")

    @field_validator("artifact")
    @classmethod
    def _check_artifact(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        allowed = ", ".join(f"{name}://" for name in ARTIFACT_SCHEMES)
        if not separator or not rest.strip("/"):
            raise invalid(f"artifact {value!r} is not a registry URI; allowed: {allowed}")
        if scheme not in ARTIFACT_SCHEMES:
            raise invalid(f"artifact {value!r} has scheme {scheme!r}; allowed: {allowed}")
        return value


class StickyKey(PolicyModel):
    """Where the gateway reads the key that pins a caller to one version."""

    source: Literal["header", "cookie", "field"]
    """header: an HTTP header; cookie: a cookie; field: a top-level field of the JSON body."""
    name: str
    """The header, cookie or field name, e.g. "X-User-Id"."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _KEY_NAME.fullmatch(value):
            raise invalid(
                f"sticky key name {value!r} is not valid: use 1 to 128 letters, digits,"
                " '_', '.' or '-'"
            )
        return value


class Traffic(PolicyModel):
    """The declared split of live traffic, in percent per version id.

    Weights are percentages (0 to 100) that sum to 100; a version left out gets 0. These are
    the weights a deployment starts with: at run time the controller owns them (ramps,
    rollbacks), and re-applying the declaration does not reset them.
    """

    weights: dict[str, float]
    """Percent of live requests per version id; sums to 100."""
    sticky: StickyKey | None = None
    """Pin each caller to one version by this key. Default: none, every request is split anew."""

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for version in value:
            check_version_id(version, "traffic weight key")
        problem = weights_problem(value, "traffic weight")
        if problem is not None:
            raise invalid(problem)
        return value


def weights_problem(weights: Mapping[str, float], noun: str = "weight") -> str | None:
    """Why `weights` (percent per version) are not a split of all traffic, or None.

    `noun` names them in the message ("traffic weight for 'v2' is 120; ...")."""
    if not weights:
        return f"{noun}s are empty: give at least one version 100 percent"
    for version, weight in weights.items():
        if not math.isfinite(weight) or not 0 <= weight <= 100:
            return f"{noun} for {version!r} is {weight:g}; allowed: 0 to 100 (percent)"
    total = math.fsum(weights.values())
    if abs(total - 100) > WEIGHT_TOLERANCE:
        shown = ", ".join(f"{version}: {weight:g}" for version, weight in weights.items())
        return f"{noun}s must sum to 100 (percent); got {total:g} ({shown})"
    return None
