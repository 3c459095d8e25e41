"""The Policy document: everything the runtime needs to know about one deployment."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Final, Literal, Self

from pydantic import field_validator, model_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.observe import Debugger, Drift, Monitor
from tfprod.policy.rollout import ABTest, CanaryRamp, ShadowTest
from tfprod.policy.safety import ControllerSettings, SafetyNet
from tfprod.policy.versions import ModelVersion, Role, Traffic

SCHEMA_VERSION: Final = "tfprod.dev/v1alpha1"
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class Policy(PolicyModel):
    """One deployment's contract between its declaration and the runtime.

    Constructs write it (a ConfigMap in the cluster, a JSON file next to the stack in
    `cdktf.out` for local runs); the gateway and controller only read it. Units are fixed:
    traffic in percent (0 to 100), rates and fractions in 0 to 1, durations in seconds,
    latencies in seconds.
    """

    schema_version: Literal["tfprod.dev/v1alpha1"] = SCHEMA_VERSION
    """Version of this document's format; a reader refuses versions it does not know."""
    name: str
    """Deployment name, a DNS-1123 label, e.g. "recommendation-engine"."""
    namespace: str = "default"
    """Kubernetes namespace. Default: "default"."""
    environment: str
    """Environment label, e.g. "production" or "staging"."""
    model: str
    """Model name in the registry, a DNS-1123 label."""
    versions: tuple[ModelVersion, ...]
    """Every version the deployment runs, each with its role."""
    traffic: Traffic
    """The declared split of live traffic between versions."""
    canary: CanaryRamp | None = None
    """Ramp a canary version up step by step. Default: no canary."""
    ab_test: ABTest | None = None
    """Compare a challenger with the stable version. Default: no A/B test."""
    shadow: ShadowTest | None = None
    """Mirror requests to a shadow version. Default: no shadow test."""
    monitor: Monitor | None = None
    """Metrics to watch and alert routes. Default: the gateway's built-in metrics, no alerts."""
    drift: Drift | None = None
    """Input drift detection. Default: none."""
    safety: SafetyNet | None = None
    """Rollback, pause and alert triggers. Default: none, only missing data rolls back."""
    debugger: Debugger | None = None
    """Capture and explain a sample of requests. Default: none."""
    controller: ControllerSettings = ControllerSettings()
    """Check cadence and evidence thresholds. Default: see ControllerSettings."""

    @field_validator("schema_version", mode="before")
    @classmethod
    def _check_schema_version(cls, value: Any) -> Any:
        if value != SCHEMA_VERSION:
            raise invalid(
                f"schema_version {value!r} is not supported; this tfprod reads {SCHEMA_VERSION!r}"
            )
        return value

    @field_validator("name", "namespace", "environment", "model")
    @classmethod
    def _check_label(cls, value: str) -> str:
        if not _DNS_LABEL.fullmatch(value):
            raise invalid(
                f"{value!r} is not a DNS-1123 label: use 1 to 63 lower-case letters, digits"
                " or '-', starting and ending with a letter or digit"
            )
        return value

    @field_validator("versions")
    @classmethod
    def _check_versions(cls, value: tuple[ModelVersion, ...]) -> tuple[ModelVersion, ...]:
        if not value:
            raise invalid("versions is empty: declare at least the stable version")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        problems = [problem for rule in _RULES for problem in rule(self)]
        if problems:
            raise invalid("; ".join(problems))
        return self

    def version(self, version_id: str) -> ModelVersion:
        """The version with this id; KeyError names the declared ones if there is none."""
        for candidate in self.versions:
            if candidate.id == version_id:
                return candidate
        raise KeyError(f"no version {version_id!r}; declared: {_ids(self.versions)}")

    def with_role(self, role: Role) -> tuple[ModelVersion, ...]:
        """The versions that have `role`, in declaration order."""
        return tuple(version for version in self.versions if version.role == role)

    @property
    def stable(self) -> ModelVersion:
        """The one version with role stable."""
        return self.with_role("stable")[0]


def _ids(versions: tuple[ModelVersion, ...]) -> str:
    return ", ".join(version.id for version in versions)


# Cross-field rules: each yields one message per problem, naming the fields in the user's terms.


def _unique_ids(policy: Policy) -> Iterator[str]:
    for version_id, count in Counter(version.id for version in policy.versions).items():
        if count > 1:
            yield f"versions: id {version_id!r} appears {count} times; version ids must be unique"


def _one_stable(policy: Policy) -> Iterator[str]:
    stable = policy.with_role("stable")
    if len(stable) != 1:
        found = f" ({_ids(stable)})" if stable else ""
        yield f"versions: exactly one version must have role 'stable'; found {len(stable)}{found}"


def _weights_name_versions(policy: Policy) -> Iterator[str]:
    declared = {version.id: version for version in policy.versions}
    for version_id, weight in policy.traffic.weights.items():
        version = declared.get(version_id)
        if version is None:
            yield (
                f"traffic.weights: {version_id!r} is not a declared version;"
                f" declared: {_ids(policy.versions)}"
            )
        elif version.role == "shadow" and weight > 0:
            yield (
                f"traffic.weights: {version_id!r} has role 'shadow' and only receives mirrored"
                f" copies; its weight must be 0, got {weight:g}"
            )


def _role_problem(policy: Policy, field: str, version_id: str, roles: tuple[Role, ...]) -> str:
    """Why `version_id` cannot be used in `field`, or "" when it is declared with a fitting role."""
    declared = {version.id: version for version in policy.versions}
    allowed = " or ".join(repr(role) for role in roles)
    version = declared.get(version_id)
    if version is None:
        return (
            f"{field}: {version_id!r} is not a declared version; declared: {_ids(policy.versions)}"
        )
    if version.role not in roles:
        return f"{field}: {version_id!r} has role {version.role!r}; it needs role {allowed}"
    return ""


def _sections_name_versions(policy: Policy) -> Iterator[str]:
    references: list[tuple[str, str, tuple[Role, ...]]] = []
    if policy.canary is not None:
        references.append(("canary.version", policy.canary.version, ("canary",)))
    if policy.ab_test is not None:
        references.append(("ab_test.control", policy.ab_test.control, ("stable",)))
        references.append(("ab_test.treatment", policy.ab_test.treatment, ("challenger", "canary")))
    if policy.shadow is not None:
        references.append(("shadow.version", policy.shadow.version, ("shadow",)))
    if policy.safety is not None:
        references.append(
            ("safety.fallback_version", policy.safety.fallback_version, ("fallback", "stable"))
        )
    for field, version_id, roles in references:
        problem = _role_problem(policy, field, version_id, roles)
        if problem:
            yield problem


def _canary_starts_at_its_weight(policy: Policy) -> Iterator[str]:
    if policy.canary is None:
        return
    declared = policy.traffic.weights.get(policy.canary.version, 0)
    first = policy.canary.steps[0].percent
    if abs(declared - first) > 1e-6:
        yield (
            f"canary.steps: the first step is {first:g}% but traffic.weights gives"
            f" {policy.canary.version!r} {declared:g}%; they must match"
        )


_RULES: tuple[Callable[[Policy], Iterator[str]], ...] = (
    _unique_ids,
    _one_stable,
    _weights_name_versions,
    _sections_name_versions,
    _canary_starts_at_its_weight,
)
