"""The deployments an explainer serves: each version's SavedModel pulled from its registry.

Only deployments whose Policy has a `debugger` section (a `ModelDebugger`) are explained.
Every version the Policy lists is pulled (checksums verified, as `tfprod up` pulls them for
its model servers) into `<models dir>/<deployment>/<version id>/` and loaded with the
`debugger.features` as feature names when the Policy gives them, else the signature's. Its
reference profile, when the registry stored one at registration, becomes its background.

Addressing follows the gateway: `/versions/N` is the registry's serving version N (what TF
Serving numbers it), `/labels/L` a Policy version id or a role held by one version only,
neither the stable version (else the first listed).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tfprod.policy import Policy, split_artifact_uri
from tfprod.runtime.explain.background import (
    Background,
    captured_background,
    profile_background,
    zero_background,
)
from tfprod.runtime.explain.model import Array, ExplainableModel, load_model
from tfprod.runtime.registry import NotFoundError, Registry

_log = logging.getLogger(__name__)
CAPTURED_ROWS = 1000
"""Captured rows kept per deployment as a background (the newest; each until it expires)."""
ROLES = ("stable", "canary", "challenger", "fallback", "shadow")


class AddressError(LookupError):
    """No explained deployment or version answers the path; the message lists what does."""


@dataclass(frozen=True, kw_only=True)
class ServedVersion:
    id: str
    number: int
    """The registry's serving version (TF Serving's number for it)."""
    model: ExplainableModel
    profile: Background | None
    """Rows drawn from the version's reference profile; None when it has none usable."""


@dataclass(kw_only=True)
class Deployment:
    policy: Policy
    versions: dict[str, ServedVersion]
    captured: deque[tuple[float, Array]] = field(default_factory=deque)
    """(expires at, rows) of captured requests, newest last, at most `CAPTURED_ROWS` rows."""

    @property
    def name(self) -> str:
        return self.policy.name

    def resolve(self, version: str | None, label: str | None) -> ServedVersion:
        """The version a path names (see the module docstring)."""
        if label is not None:
            chosen = label if label in self.versions else self._role(label)
            if chosen is None:
                raise AddressError(
                    f"model {self.name!r} has no version with label {label!r};"
                    f" labels: {', '.join(self.labels())}"
                )
            return self.versions[chosen]
        if version is not None:
            for served in self.versions.values():
                if served.number == int(version):
                    return served
            known = sorted(str(served.number) for served in self.versions.values())
            raise AddressError(
                f"model {self.name!r} has no version {int(version)}; versions: {', '.join(known)}"
            )
        stable = self.policy.with_role("stable")
        return self.versions[stable[0].id if stable else self.policy.versions[0].id]

    def _role(self, role: str) -> str | None:
        holders = [v.id for v in self.policy.versions if v.role == role]
        return holders[0] if len(holders) == 1 else None

    def labels(self) -> list[str]:
        roles = [role for role in ROLES if self._role(role) is not None]
        return [*self.versions, *roles]

    def remember(self, rows: Array, expires: float) -> None:
        """Keeps captured `rows` as background until `expires` (unix time)."""
        self.captured.append((expires, rows))
        while sum(len(kept) for _, kept in self.captured) > CAPTURED_ROWS:
            self.captured.popleft()

    def background(self, version: ServedVersion, now: float | None = None) -> Background:
        """The version's reference profile, else the unexpired captured rows, else zeros."""
        if version.profile is not None:
            return version.profile
        moment = time.time() if now is None else now
        while self.captured and self.captured[0][0] <= moment:
            self.captured.popleft()
        rows = [kept for expires, kept in self.captured if expires > moment]
        features = len(version.model.feature_names)
        return captured_background(rows) or zero_background(features)


def load_deployments(policies: Iterable[Policy], models_dir: Path) -> dict[str, Deployment]:
    """The deployments of `policies` with a debugger section, their versions pulled and loaded."""
    deployments = {}
    for policy in policies:
        if policy.debugger is None:
            continue
        versions = {
            version.id: _load_version(policy, version.id, version.artifact, models_dir)
            for version in policy.versions
        }
        for served in versions.values():
            _log.info(
                "explaining %s version %s (%d): features %s from the %s; background: %s",
                policy.name, served.id, served.number, ", ".join(served.model.feature_names),
                served.model.feature_source,
                "reference profile" if served.profile else "captured rows, else zeros",
            )  # fmt: skip
        deployments[policy.name] = Deployment(policy=policy, versions=versions)
    return deployments


def _load_version(
    policy: Policy, version_id: str, artifact: str, models_dir: Path
) -> ServedVersion:
    assert policy.debugger is not None  # only explained deployments are loaded
    root, model, ref = split_artifact_uri(artifact)
    registry = Registry.open(root)
    path = registry.pull(model, ref, models_dir / policy.name / version_id)
    explainable = load_model(path, feature_names=policy.debugger.features)
    try:
        profile = profile_background(
            registry.reference_profile(model, ref), explainable.feature_names
        )
    except NotFoundError:
        profile = None
    return ServedVersion(id=version_id, number=int(path.name), model=explainable, profile=profile)
