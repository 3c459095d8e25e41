"""A read-only view of one synthesized stack, shaped for the governance rules.

The input is what `TerraformStack.to_terraform()` returns (the same document as the stack's
`cdk.tf.json`): every resource carries `"//": {"metadata": {"path": ...}}` with its construct
path. Suppressions and settings recorded by `suppress` and `configure_governance` travel in
the stack's own `"//"` block, under `tfprod`, so a review recomputes the same findings from the
files alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeGuard

from tfprod.governance.environments import Environments, environments_from
from tfprod.governance.findings import GovernanceError, Suppression
from tfprod.policy import Policy

DEFAULT_MAX_ROLLBACK_SECONDS = 600.0
"""Default cap on a policy's worst-case time to rollback (TFP009): ten minutes."""
TFPROD_KEY = "tfprod"
"""Key under the stack's `"//"` block holding governance suppressions and settings."""
COMMENT_KEY = "//"
DEPLOYMENT_TYPES = ("kubernetes_deployment", "kubernetes_deployment_v1")
AUTOSCALER_TYPES = (
    "kubernetes_horizontal_pod_autoscaler",
    "kubernetes_horizontal_pod_autoscaler_v1",
    "kubernetes_horizontal_pod_autoscaler_v2",
    "kubernetes_horizontal_pod_autoscaler_v2beta2",
)


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One resource block: its Terraform type and name, construct path and attributes."""

    type: str
    name: str
    path: str
    body: Mapping[str, Any]

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        """`walk(body)`, computed once: several rules look at every key of every resource."""
        return tuple(walk(self.body))

    @property
    def address(self) -> str:
        """The Terraform address, e.g. `kubernetes_deployment_v1.rec_deployment_1A2B3C4D`."""
        return f"{self.type}.{self.name}"


@dataclass(frozen=True, kw_only=True)
class StackView:
    """One stack's synthesized JSON, its deployments' policies and the governance settings."""

    name: str
    """The stack's name (its construct id)."""
    document: Mapping[str, Any]
    resources: tuple[Resource, ...]
    policies: Mapping[str, Policy]
    """Each ModelDeployment's policy, keyed by its construct path."""
    sensitive_variables: frozenset[str]
    max_rollback_seconds: float
    environments: Environments
    """Which environments count as production, and which are known not to."""

    def of_type(self, *types: str) -> Iterator[Resource]:
        """The resources whose Terraform type is one of `types`, in document order."""
        return (resource for resource in self.resources if resource.type in types)

    def production(self) -> Iterator[tuple[str, Policy]]:
        """(construct path, policy) of every deployment whose environment is production."""
        return (
            (path, policy)
            for path, policy in sorted(self.policies.items())
            if self.environments.is_production(policy.environment)
        )


def stack_view(
    document: Mapping[str, Any],
    policies: Mapping[str, Policy],
    *,
    max_rollback_seconds: float | None = None,
) -> StackView:
    """Build the view; `max_rollback_seconds` overrides the cap recorded in the stack."""
    metadata = document.get(COMMENT_KEY, {}).get("metadata", {})
    name = str(metadata.get("stackName", ""))
    settings = recorded(document).get("governance", {})
    cap = check_cap(
        max_rollback_seconds
        if max_rollback_seconds is not None
        else settings.get("max_rollback_seconds", DEFAULT_MAX_ROLLBACK_SECONDS)
    )
    return StackView(
        name=name,
        document=document,
        resources=tuple(_resources(document, name)),
        policies=dict(policies),
        sensitive_variables=frozenset(
            variable
            for variable, body in document.get("variable", {}).items()
            if isinstance(body, Mapping) and body.get("sensitive") is True
        ),
        max_rollback_seconds=cap,
        environments=environments_from(settings),
    )


def check_cap(seconds: object) -> float:
    """`seconds` as a cap on the time to rollback; GovernanceError unless it is usable."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or seconds <= 0
    ):
        raise GovernanceError(
            f"max_rollback_seconds {seconds!r} is not valid; allowed: a number of seconds above 0"
        )
    return float(seconds)


def recorded(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """What `suppress` and `configure_governance` recorded in the stack's `"//"` block."""
    value = document.get(COMMENT_KEY, {}).get(TFPROD_KEY, {})
    return value if isinstance(value, Mapping) else {}


def recorded_suppressions(document: Mapping[str, Any]) -> tuple[Suppression, ...]:
    """The suppressions recorded in the stack; GovernanceError if one has no reason."""
    entries = recorded(document).get("suppressions", [])
    return tuple(
        Suppression(
            path=str(entry.get("path", "")),
            rule=str(entry.get("rule", "")),
            reason=str(entry.get("reason", "")),
        )
        for entry in entries
    )


def _resources(document: Mapping[str, Any], stack: str) -> Iterator[Resource]:
    for resource_type, by_name in sorted(document.get("resource", {}).items()):
        for name, body in sorted(by_name.items()):
            path = body.get(COMMENT_KEY, {}).get("metadata", {}).get("path", f"{stack}/{name}")
            yield Resource(type=resource_type, name=name, path=str(path), body=body)


def blocks(value: Any) -> list[Mapping[str, Any]]:
    """A nested block as a list: Terraform JSON writes one block as an object or a list."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, Mapping)]
    return []


Entry = tuple[str, str, Any]
"""(location, key, value) of one key in a nested document; see `walk`."""


def walk(value: Any, location: str = "") -> Iterator[Entry]:
    """(location, key, value) of every key in nested objects and lists, `"//"` left out.

    Locations read like Terraform's: `spec[0].template[0].spec[0].container[1].image`.
    """
    found: list[Entry] = []
    _collect(value, location, found)
    return iter(found)


def _collect(value: Any, location: str, found: list[Entry]) -> None:
    # A list built in one recursion: stacks of `yield from` generators cost several times
    # as much on the thousands of keys of a large stack.
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == COMMENT_KEY:
                continue
            where = f"{location}.{key}" if location else str(key)
            found.append((where, str(key), item))
            if isinstance(item, Mapping | list | tuple):
                _collect(item, where, found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, Mapping | list | tuple):
                _collect(item, f"{location}[{index}]", found)


def is_reference(value: str) -> bool:
    """True when `value` is wholly a Terraform expression such as `${var.token}`."""
    return value.startswith("${") and value.endswith("}")


def is_expression(value: object) -> TypeGuard[str]:
    """True when `value` is a string holding a Terraform expression (`${...}`) anywhere:
    its value is known only at apply time."""
    return isinstance(value, str) and "${" in value


def first_block(body: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """The first block down `keys` (e.g. "spec", "scale_target_ref"), {} when one is missing."""
    current: Mapping[str, Any] = body
    for key in keys:
        found = blocks(current.get(key))
        if not found:
            return {}
        current = found[0]
    return current


def autoscaler_of(deployment: Resource, autoscalers: Iterable[Resource]) -> Resource | None:
    """The first HPA whose scale target is `deployment` (by reference or by name), if any."""
    for autoscaler in autoscalers:
        target = first_block(autoscaler.body, "spec", "scale_target_ref")
        if target.get("kind", "Deployment") != "Deployment":
            continue
        name = str(target.get("name", ""))
        if is_reference(name):
            if f"{deployment.address}." in name:
                return autoscaler
        elif name == first_block(deployment.body, "metadata").get("name"):
            return autoscaler
    return None
