"""The names the CDK Terrain provider generator gives classes, modules and keyword arguments.

Bindings written against a prebuilt `cdktn_provider_*` package must keep working after the
import is swapped for `tfprod.bindings.*`, so these rules follow that generator (and jsii's
Python naming): resource `kubernetes_deployment_v1` is module `deployment_v1`, class
`DeploymentV1`; its `spec.template` block is struct `DeploymentV1SpecTemplate`; data source
`kubernetes_namespace_v1` is module `data_kubernetes_namespace_v1`, class
`DataKubernetesNamespaceV1`; the provider is `provider.KubernetesProvider`.
"""

from __future__ import annotations

import keyword
import re

# Class or module names the generator suffixes with `_resource` (TypeScript keywords and
# names that collide with files of the generated packages).
_RESERVED_CLASS_NAMES = frozenset(
    {
        "string",
        "object",
        "function",
        "implements",
        "interface",
        "let",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
        "await",
        "license",
    }
)

# camelCase attribute names the generator renames (jsii and target-language clashes).
_ESCAPED_ATTRIBUTES = {
    "self": "selfAttribute",
    "build": "buildAttribute",
    "equals": "equalTo",
    "node": "nodeAttribute",
    "system": "systemAttribute",
    "tfResourceType": "tfResourceTypeAttribute",
    "importFrom": "importFromAttribute",
    "moveTo": "moveToAttribute",
    "software": "softwareAttribute",
}

_DIGITS_THEN_ALNUM = re.compile(r"\d+([A-Za-z0-9_]|$)")


def pascal_case(snake: str) -> str:
    """`deployment_v1_spec` -> `DeploymentV1Spec`; a letter after digits is upper-cased."""
    camel = camel_case(snake)
    return camel[:1].upper() + camel[1:]


def camel_case(snake: str) -> str:
    parts = [part for part in snake.split("_") if part]
    if not parts:
        return snake
    text = parts[0].lower() + "".join(part[:1].upper() + part[1:].lower() for part in parts[1:])
    return _DIGITS_THEN_ALNUM.sub(lambda m: m.group(0).upper(), text)


def snake_case(camel: str) -> str:
    """jsii's Python name for a camelCase member name."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", camel)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return text.lower()


def python_name(tf_name: str) -> str:
    """The keyword argument and property name of a Terraform attribute or block."""
    camel = camel_case(tf_name)
    if re.match(r"get[A-Za-z]+", camel):
        camel = camel.replace("get", "fetch", 1)
    camel = _ESCAPED_ATTRIBUTES.get(camel, camel)
    name = snake_case(camel)
    return f"{name}_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


def base_name(provider: str, tf_type: str, *, data: bool) -> str:
    """The generator's base name: the type without its provider prefix (`deployment_v1`),
    or `data_` + the full type for data sources."""
    name = f"data_{tf_type}" if data else tf_type.removeprefix(f"{provider}_")
    if name.lower() in _RESERVED_CLASS_NAMES or name == "provider":
        return f"{name}_resource"
    return name


def struct_name(path: tuple[str, ...]) -> str:
    """`("deployment_v1", "spec", "template")` -> `DeploymentV1SpecTemplate`; names ending in
    `list` get a `Struct` suffix, as the generator keeps `...List` for list wrappers."""
    name = pascal_case("_".join(path))
    return f"{name}Struct" if name.lower().endswith("list") else name
