"""What a session declared for one deployment, and the Policy it makes.

Mirrors `tfprod.constructs.ModelDeployment` (versions with roles, traffic taken from the
stable version, one owner per Policy section) without cdktn, so a notebook runs no Node.js;
each declaration is also kept as the construct call `export` writes, and the test of `export`
checks that the synthesized Policy equals `policy()`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from tfprod.policy import ControllerSettings, Policy
from tfprod.policy.declaration import declared_document
from tfprod.policy.problems import validation_lines
from tfprod.policy.versions import WEIGHT_TOLERANCE, Role
from tfprod.production.errors import ProductionError, argument_error

NAMESPACE = "default"
"""The namespace of every session deployment (the exported stack's `ClusterModelPlatform`)."""


@dataclass(frozen=True, kw_only=True)
class AutoScaling:
    """How each version scales in a cluster (an HPA v2 per version); the embedded platform runs
    one model server per version and ignores it. Fields and defaults are those of
    `tfprod.constructs.AutoScaling`, which `export` writes."""

    min_replicas: int = 2
    """Fewest replicas per version. Default: 2."""
    max_replicas: int = 10
    """Most replicas per version. Default: 10."""
    target_cpu_percent: int | None = 70
    """Average CPU use the HPA aims at, in percent. Default: 70; None: not a signal."""
    target_requests_per_second: float | None = None
    """Requests per second per replica the HPA aims at. Default: None, not a signal."""

    def __post_init__(self) -> None:
        low, high = self.min_replicas, self.max_replicas
        if isinstance(low, bool) or not isinstance(low, int) or low < 1:
            raise argument_error("AutoScaling", "min_replicas", f"{low!r} is below 1", "1 up")
        if isinstance(high, bool) or not isinstance(high, int) or high < low:
            raise argument_error(
                "AutoScaling", "max_replicas", f"{high!r} is below min_replicas", f"{low} up"
            )
        cpu = self.target_cpu_percent
        if cpu is not None and not 1 <= cpu <= 100:
            raise argument_error(
                "AutoScaling", "target_cpu_percent", f"{cpu!r} is out of range", "1 to 100, or None"
            )
        rps = self.target_requests_per_second
        if rps is not None and not (math.isfinite(rps) and rps > 0):
            raise argument_error(
                "AutoScaling",
                "target_requests_per_second",
                f"{rps!r} is not above 0",
                "a number above 0, or None",
            )


@dataclass(frozen=True)
class Construct:
    """One construct call of the exported app: its class, id and keyword arguments."""

    kind: str
    id: str
    kwargs: Mapping[str, Any]


@dataclass(kw_only=True)
class Declared:
    """One deployment as the session declared it."""

    name: str
    model: str
    registry: str
    stable: str
    environment: str
    scaling: AutoScaling | None
    controller: ControllerSettings
    roles: dict[str, Role] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    sections: dict[str, tuple[str, BaseModel]] = field(default_factory=dict)
    constructs: list[Construct] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.roles[self.stable] = "stable"

    def add_version(
        self, version: str, role: Role, percent: float, *, call: str, argument: str
    ) -> None:
        """Runs `version` in `role` with `percent` of traffic taken from the stable version."""
        if version in self.roles:
            raise ProductionError(
                f"{call}: {argument} {version!r} is already in deployment {self.name!r} as its"
                f" {self.roles[version]} version; allowed: a version it does not run yet"
            )
        others = math.fsum(self.weights.values())
        if percent > 0 and others + percent >= 100 - WEIGHT_TOLERANCE:
            raise ProductionError(
                f"{call}: {percent:g}% on top of the {others:g}% other versions have leaves the"
                f" stable version of {self.name!r} no traffic; allowed: at most {100 - others:g}%"
                " minus a share for the stable version"
            )
        self.roles[version] = role
        if percent > 0:
            self.weights[version] = percent

    def set_section(self, section: str, value: BaseModel, *, call: str) -> None:
        if section in self.sections:
            raise ProductionError(
                f"{call}: deployment {self.name!r} already has a {section} section, from"
                f" {self.sections[section][0]}; allowed: one {call} per deployment"
            )
        self.sections[section] = (call, value)

    def policy(self) -> Policy:
        """The Policy this declaration runs with (what the exported stack synthesizes)."""
        document = declared_document(
            name=self.name,
            namespace=NAMESPACE,
            environment=self.environment,
            model=self.model,
            registry=self.registry,
            stable=self.stable,
            roles=self.roles,
            weights=self.weights,
            controller=self.controller,
            sections={section: value for section, (_, value) in self.sections.items()},
        )
        return Policy.model_validate(document)


def section(
    kind: type[BaseModel], document: Mapping[str, Any], *, call: str, rename: Mapping[str, str]
) -> Any:
    """`kind` validated from `document`; a ProductionError in the caller's argument names."""
    try:
        return kind.model_validate(dict(document))
    except ValidationError as error:
        lines = validation_lines(error, rename=rename)
        raise ProductionError("\n".join(f"{call}: {line}" for line in lines)) from None
