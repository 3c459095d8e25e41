"""The Policy document: everything the runtime needs to know about one deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final, Literal, Self

from pydantic import ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.feedback import FeedbackSettings
from tfprod.policy.names import DNS_1123_LABEL_RULE, is_dns_label
from tfprod.policy.observe import Debugger, Drift, Monitor
from tfprod.policy.rollout import ABTest, CanaryRamp, ShadowTest
from tfprod.policy.safety import ControllerSettings, SafetyNet
from tfprod.policy.versions import WEIGHT_TOLERANCE, ModelVersion, Role, Traffic

SCHEMA_VERSION: Final = "tfprod.dev/v1alpha1"


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
    feedback: FeedbackSettings = FeedbackSettings()
    """Which request ids feedback may name. Default: only the gateway's signed ids."""

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
        if not is_dns_label(value):
            raise invalid(f"{value!r} is not a DNS-1123 label: use {DNS_1123_LABEL_RULE}")
        return value

    @field_validator("versions")
    @classmethod
    def _check_versions(cls, value: tuple[ModelVersion, ...]) -> tuple[ModelVersion, ...]:
        if not value:
            raise invalid("versions is empty: declare at least the stable version")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        """Run the cross-field rules; every problem becomes its own error at its own path."""
        problems = [problem for rule in _RULES for problem in rule(self)]
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=invalid(message), loc=location, input=None)
                    for location, message in problems
                ],
            )
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


# Cross-field rules: each yields (field path, message) per problem, in the user's terms.

Location = tuple[str | int, ...]
Problem = tuple[Location, str]


def _unique_ids(policy: Policy) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, version in enumerate(policy.versions):
        if version.id in seen:
            yield (
                ("versions", index, "id"),
                f"version id {version.id!r} is declared twice; version ids must be unique",
            )
        seen.add(version.id)


def _one_stable(policy: Policy) -> Iterator[Problem]:
    stable = policy.with_role("stable")
    if len(stable) != 1:
        found = f" ({_ids(stable)})" if stable else ""
        yield (
            ("versions",),
            f"exactly one version must have role 'stable'; found {len(stable)}{found}",
        )


def _undeclared(policy: Policy, version_id: str) -> str:
    return f"{version_id!r} is not a declared version; declared: {_ids(policy.versions)}"


def _weights_name_versions(policy: Policy) -> Iterator[Problem]:
    declared = {version.id: version for version in policy.versions}
    for version_id, weight in policy.traffic.weights.items():
        version = declared.get(version_id)
        where = ("traffic", "weights", version_id)
        if version is None:
            yield where, _undeclared(policy, version_id)
        elif version.role == "shadow" and weight > 0:
            yield (
                where,
                f"{version_id!r} has role 'shadow' and only receives mirrored copies; its weight"
                f" must be 0, got {weight:g}",
            )


def _references(policy: Policy) -> Iterator[tuple[Location, str, tuple[Role, ...]]]:
    """Every version a section names: (field path, version id, roles it may have)."""
    if policy.canary is not None:
        yield ("canary", "version"), policy.canary.version, ("canary",)
    if policy.ab_test is not None:
        yield ("ab_test", "control"), policy.ab_test.control, ("stable",)
        yield ("ab_test", "treatment"), policy.ab_test.treatment, ("challenger", "canary")
    if policy.shadow is not None:
        yield ("shadow", "version"), policy.shadow.version, ("shadow",)
    if policy.safety is not None:
        yield (
            ("safety", "fallback_version"),
            policy.safety.fallback_version,
            ("fallback", "stable"),
        )


def _sections_name_versions(policy: Policy) -> Iterator[Problem]:
    declared = {version.id: version for version in policy.versions}
    for where, version_id, roles in _references(policy):
        version = declared.get(version_id)
        if version is None:
            yield where, _undeclared(policy, version_id)
        elif version.role not in roles:
            allowed = " or ".join(repr(role) for role in roles)
            yield where, f"{version_id!r} has role {version.role!r}; it needs role {allowed}"


def _ab_variants_differ(policy: Policy) -> Iterator[Problem]:
    if policy.ab_test is not None and policy.ab_test.control == policy.ab_test.treatment:
        yield (
            ("ab_test", "treatment"),
            f"{policy.ab_test.treatment!r} is also the control; an A/B test needs two versions",
        )


def _canary_starts_at_its_weight(policy: Policy) -> Iterator[Problem]:
    if policy.canary is None:
        return
    declared = policy.traffic.weights.get(policy.canary.version, 0)
    first = policy.canary.steps[0].percent
    if abs(declared - first) > WEIGHT_TOLERANCE:
        yield (
            ("canary", "steps", 0, "percent"),
            f"the first step is {first:g}% but traffic.weights gives"
            f" {policy.canary.version!r} {declared:g}%; they must match",
        )


_RULES: tuple[Callable[[Policy], Iterator[Problem]], ...] = (
    _unique_ids,
    _one_stable,
    _weights_name_versions,
    _sections_name_versions,
    _ab_variants_differ,
    _canary_starts_at_its_weight,
)
