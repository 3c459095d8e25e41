"""The Kubernetes objects that synthesized `kubernetes_*` resources create, for kubernetes-validate.

The hashicorp/kubernetes provider's typed resources (`kubernetes_deployment_v1`, ...) are not
Kubernetes manifests: their keys are snake_case, nested objects are one-element block lists, and
some numbers are typed as strings. `to_manifest` turns one such resource into the object the
provider sends to the API server by walking the Kubernetes JSON schemas that kubernetes-validate
ships alongside the Terraform JSON, so the schemas, not a hand-written field list, decide:

- a Terraform key names the schema property whose name is its camelCase form, or that form's
  plural (`container` -> `containers`, `policy` -> `policies`); the match ignores case, since
  Kubernetes capitalizes initialisms (`cluster_ip` -> `clusterIP`, `downward_api` ->
  `downwardAPI`) and no schema object has two properties differing only in case;
- a block given as a one-element list becomes an object where the schema wants an object;
- a string becomes an integer, number or boolean where the schema wants one (the provider types
  `replicas`, `run_as_user`, `fs_group` ... as strings); an int-or-string field given a decimal
  string becomes an integer, as the provider's `intstr.Parse` makes it, and stays as given
  otherwise (`"http"`, `"25%"`);
- a map the schema declares with `additionalProperties` (labels, annotations, data, resource
  limits and requests, match_labels, a Service's selector) keeps its keys verbatim.

`PROVIDER_ONLY`, `RENAMES`, `OCTAL_MODES`, `PLAIN_TEXT_MAPS` and `SPLIT_BLOCKS` hold the few
places where the provider departs from those rules. A key that nothing places raises
`UnplaceableError`, naming the resource and the key's path: a new construct field fails loudly
instead of going unchecked.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate

KUBERNETES_VERSION = "1.37.0"
SCHEMAS = (
    Path(kubernetes_validate.__file__).parent
    / "kubernetes-json-schema"
    / f"v{KUBERNETES_VERSION}-local"
)

# Terraform resource type -> (apiVersion, kind) of the object it creates.
KINDS: dict[str, tuple[str, str]] = {
    "kubernetes_config_map_v1": ("v1", "ConfigMap"),
    "kubernetes_deployment_v1": ("apps/v1", "Deployment"),
    "kubernetes_horizontal_pod_autoscaler_v2": ("autoscaling/v2", "HorizontalPodAutoscaler"),
    "kubernetes_namespace_v1": ("v1", "Namespace"),
    "kubernetes_network_policy_v1": ("networking.k8s.io/v1", "NetworkPolicy"),
    "kubernetes_pod_disruption_budget_v1": ("policy/v1", "PodDisruptionBudget"),
    "kubernetes_role_binding_v1": ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    "kubernetes_role_v1": ("rbac.authorization.k8s.io/v1", "Role"),
    "kubernetes_secret_v1": ("v1", "Secret"),
    "kubernetes_service_account_v1": ("v1", "ServiceAccount"),
    "kubernetes_service_v1": ("v1", "Service"),
}

# Terraform's own meta-arguments (and cdktn's "//" comment): never part of the object.
META_ARGUMENTS = frozenset(
    {"//", "connection", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioner"}
)

# Arguments that steer how the provider waits; it never sends them to the API server.
PROVIDER_ONLY: dict[str, frozenset[str]] = {
    "kubernetes_deployment_v1": frozenset({"timeouts", "wait_for_rollout"}),
    "kubernetes_namespace_v1": frozenset({"timeouts", "wait_for_default_service_account"}),
    "kubernetes_secret_v1": frozenset({"timeouts", "wait_for_service_account_token"}),
    "kubernetes_service_account_v1": frozenset({"timeouts"}),
    "kubernetes_service_v1": frozenset({"timeouts", "wait_for_load_balancer"}),
}

# (schema definition, Terraform key) -> Kubernetes property, where the provider's name is not
# the property's camelCase form or plural. Complete for these resource types: the test
# `test_every_argument_of_the_providers_resources_has_a_kubernetes_field_but_these` walks the
# provider's schema (tfprod/bindings/snapshots/kubernetes.json) against Kubernetes'.
RENAMES: dict[tuple[str, str], str] = {
    ("io.k8s.api.core.v1.AzureDiskVolumeSource", "data_disk_uri"): "diskURI",
    ("io.k8s.api.core.v1.GlusterfsVolumeSource", "endpoints_name"): "endpoints",
    ("io.k8s.api.core.v1.RBDVolumeSource", "ceph_monitors"): "monitors",
    ("io.k8s.api.core.v1.RBDVolumeSource", "rados_user"): "user",
    ("io.k8s.api.core.v1.RBDVolumeSource", "rbd_image"): "image",
    ("io.k8s.api.core.v1.RBDVolumeSource", "rbd_pool"): "pool",
}

# File modes the provider takes as octal strings ("0644") and sends as the integer they denote
# (where Kubernetes wants an integer: a gRPC probe's `mode` is a string).
OCTAL_MODES = frozenset({"default_mode", "mode"})

# Maps the provider takes as plain text and sends base64-encoded.
PLAIN_TEXT_MAPS = frozenset({("kubernetes_secret_v1", "data")})

# Array items whose Terraform element may hold several blocks of each kind: the provider sends
# every block as an item of its own, kinds in this order (expandProjectedSources).
SPLIT_BLOCKS: dict[str, tuple[str, ...]] = {
    "io.k8s.api.core.v1.VolumeProjection": (
        "secret",
        "config_map",
        "downward_api",
        "service_account_token",
    ),
}

# Stands in for a Terraform reference (`${...}`) where the schema wants an integer, a number or
# a boolean: its value is only known at apply time, and only its type matters to the schema.
PLACEHOLDERS: dict[str, Any] = {"integer": 0, "number": 0, "boolean": False}

DECIMAL = re.compile(r"-?[0-9]+")
OCTAL = re.compile(r"[0-7]+")
BOOLEANS = {"true": True, "false": False}


class UnplaceableError(ValueError):
    """A Terraform key or value with no place in the Kubernetes object."""


def to_manifest(tf_type: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    """The Kubernetes object that the synthesized resource `resource` of type `tf_type` creates.

    Terraform references inside integer, number or boolean fields become `PLACEHOLDERS`;
    references inside strings are kept as written.
    """
    api_version, kind = _kind(tf_type)
    construct = resource.get("//", {}).get("metadata", {}).get("path")
    walker = _Walker(f"{tf_type} {construct}" if construct else tf_type)
    skipped = META_ARGUMENTS | PROVIDER_ONLY.get(tf_type, frozenset())
    fields = {
        key: _base64_values(value) if (tf_type, key) in PLAIN_TEXT_MAPS else value
        for key, value in resource.items()
        if key not in skipped
    }
    body = walker.object(fields, kind_schema(tf_type), kind, "")
    return {"apiVersion": api_version, "kind": kind, **body}


def kubernetes_objects(document: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(Terraform address, Kubernetes object) for every object a synthesized stack declares:
    its typed `kubernetes_*` resources, converted, and its `kubernetes_manifest` objects."""
    for tf_type, resources in sorted(document.get("resource", {}).items()):
        for name, resource in sorted(resources.items()):
            if tf_type == "kubernetes_manifest":
                yield f"{tf_type}.{name}", resource["manifest"]
            elif tf_type.startswith("kubernetes_"):
                yield f"{tf_type}.{name}", to_manifest(tf_type, resource)


@cache
def kind_schema(tf_type: str) -> dict[str, Any]:
    """The schema kubernetes-validate checks the object of `tf_type` against (its file name
    rule: `kind-group-version.json`, the group cut at its first dot)."""
    api_version, kind = _kind(tf_type)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema: dict[str, Any] = json.loads(
        (SCHEMAS / f"{kind.lower()}-{group_version}.json").read_text()
    )
    return schema


def resolve(schema: Mapping[str, Any], definition: str) -> tuple[Mapping[str, Any], str]:
    """`schema` with its `$ref` followed, and the name of the definition it is part of."""
    if "$ref" not in schema:
        return schema, definition
    name = schema["$ref"].rsplit("/", 1)[-1]
    target: Mapping[str, Any] = _definitions()[name]
    return target, name


def types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types `schema` allows besides null."""
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared) - {"null"}


def field_name(properties: Mapping[str, Any], definition: str, key: str) -> str | None:
    """The property of `definition` that the Terraform key `key` sets, if any."""
    if (definition, key) in RENAMES:
        return RENAMES[(definition, key)]
    by_lower = {name.lower(): name for name in properties}
    for candidate in _candidates(key):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def _kind(tf_type: str) -> tuple[str, str]:
    if tf_type not in KINDS:
        raise UnplaceableError(
            f"{tf_type}: not a resource type this converter knows; known: {', '.join(KINDS)}"
        )
    return KINDS[tf_type]


@cache
def _definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads((SCHEMAS / "_definitions.json").read_text())["$defs"]
    return definitions


def _candidates(key: str) -> list[str]:
    """`key` in camelCase, then its plural."""
    head, *rest = key.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    if camel.endswith("y") and camel[-2:-1] not in ("a", "e", "i", "o", "u"):
        return [camel, camel[:-1] + "ies"]
    return [camel, camel + "s"]


def _base64_values(texts: Mapping[str, str]) -> dict[str, str]:
    return {name: base64.b64encode(text.encode()).decode() for name, text in texts.items()}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Walker:
    """Converts one resource; `label` names it in errors."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, path: str, problem: str) -> UnplaceableError:
        return UnplaceableError(f"{self.label}: {path}: {problem}")

    def value(self, value: Any, schema: Mapping[str, Any], definition: str, path: str) -> Any:
        schema, definition = resolve(schema, definition)
        if "oneOf" in schema:
            return self.either(value, schema, path)
        wanted = types(schema)
        if "object" in wanted:
            if isinstance(value, list) and len(value) == 1 and "properties" in schema:
                value = value[0]
            if not isinstance(value, dict):
                raise self.fail(path, f"{definition} wants one object, got {value!r}")
            return self.object(value, schema, definition, path)
        if "array" in wanted:
            if not isinstance(value, list):
                raise self.fail(path, f"{definition} wants a list, got {value!r}")
            items = schema["items"]
            split = SPLIT_BLOCKS.get(resolve(items, definition)[1])
            if split is not None:
                value = self.split(value, split, path)
            return [
                self.value(item, items, definition, f"{path}[{index}]")
                for index, item in enumerate(value)
            ]
        return self.scalar(value, wanted, path)

    def object(
        self, value: Mapping[str, Any], schema: Mapping[str, Any], definition: str, path: str
    ) -> dict[str, Any]:
        if "properties" not in schema:
            entries = schema["additionalProperties"]
            return {
                key: self.value(item, entries, definition, _join(path, key))
                for key, item in value.items()
            }
        properties = schema["properties"]
        result: dict[str, Any] = {}
        for key, item in value.items():
            where = _join(path, key)
            name = field_name(properties, definition, key)
            if name is None:
                raise self.fail(
                    where,
                    f"no field of {definition} matches it"
                    f" (tried {', '.join(_candidates(key))}, ignoring case)",
                )
            octal = key in OCTAL_MODES and types(properties[name]) == {"integer"}
            if octal and isinstance(item, str) and "${" not in item:
                if not OCTAL.fullmatch(item):
                    raise self.fail(where, f"wants an octal file mode like '0644', got {item!r}")
                result[name] = int(item, 8)
            else:
                result[name] = self.value(item, properties[name], definition, where)
        return result

    def split(self, value: list[Any], kinds: tuple[str, ...], path: str) -> list[dict[str, Any]]:
        """One item per block, as the provider expands them (see `SPLIT_BLOCKS`)."""
        for index, item in enumerate(value):
            unknown = sorted(set(item) - set(kinds))
            if unknown:
                raise self.fail(
                    f"{path}[{index}].{unknown[0]}",
                    f"the provider projects only {', '.join(kinds)}",
                )
        return [{kind: block} for item in value for kind in kinds for block in item.get(kind, [])]

    def either(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        """An int-or-string (IntOrString) or number-or-string (Quantity) field."""
        allowed = set().union(*(types(option) for option in schema["oneOf"]))
        if isinstance(value, str) and "integer" in allowed and DECIMAL.fullmatch(value):
            return int(value)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
        raise self.fail(path, f"wants one of {', '.join(sorted(allowed))}, got {value!r}")

    def scalar(self, value: Any, wanted: set[str], path: str) -> Any:
        (kind,) = wanted
        text = isinstance(value, str)
        if text and "${" in value and kind in PLACEHOLDERS:
            return PLACEHOLDERS[kind]
        if kind == "string" and text:
            return value
        if kind == "boolean" and (isinstance(value, bool) or (text and value in BOOLEANS)):
            return BOOLEANS[value] if text else value
        numeric = kind in ("integer", "number") and not isinstance(value, bool)
        if numeric and (isinstance(value, int) or (kind == "number" and isinstance(value, float))):
            return value
        if numeric and text and DECIMAL.fullmatch(value):
            return int(value)
        raise self.fail(path, f"wants {'an' if kind == 'integer' else 'a'} {kind}, got {value!r}")
