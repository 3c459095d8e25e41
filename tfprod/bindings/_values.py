"""Field tables, struct values and the checks that turn them into Terraform JSON.

Generated modules describe every block as a table of `Field`s; this module does the rest:
it checks a value given for a field (a struct, a dict with the same keys as the struct's
keyword arguments, or an unresolved token) and converts it to what the prebuilt provider
packages emit: Terraform attribute names, nested blocks as objects (single) or lists of
objects, unset (`None`) values left out. Every error names the attribute path from the
resource class down, e.g. `DeploymentV1.spec.template.spec.container[0].image`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from tfprod.bindings._core import Token, Tokenization
from tfprod.bindings.generator.naming import camel_case


class BindingValueError(ValueError):
    """A value given to a generated binding does not fit the provider schema."""


@dataclass(frozen=True, kw_only=True)
class Primitive:
    """`string`, `number`, `bool`, or `any` (Terraform's `dynamic`)."""

    name: str


STRING = Primitive(name="string")
NUMBER = Primitive(name="number")
BOOL = Primitive(name="bool")
ANY = Primitive(name="any")


@dataclass(frozen=True, kw_only=True)
class ListOf:
    """A list or set; Terraform JSON writes both as arrays, so only the name differs."""

    element: Spec
    kind: str = "list"


@dataclass(frozen=True, kw_only=True)
class MapOf:
    element: Spec


@dataclass(frozen=True, kw_only=True)
class StructOf:
    """An object: a nested block, an object-typed attribute, or nested attributes."""

    struct: type[Struct]


Spec: TypeAlias = Primitive | ListOf | MapOf | StructOf


@dataclass(frozen=True, kw_only=True)
class Field:
    """One attribute or nested block: its Python keyword, its type, its Terraform name.

    `settable` is False for attributes the provider computes (readable only as tokens).
    `sensitive` values are never shown in error messages.
    """

    py: str
    spec: Spec
    tf: str = ""
    required: bool = False
    settable: bool = True
    sensitive: bool = False

    def __post_init__(self) -> None:
        if not self.tf:  # generated tables leave it out when it equals the Python name
            object.__setattr__(self, "tf", self.py)


class Struct:
    """Base of generated struct classes (e.g. `DeploymentV1Metadata`).

    Holds the keyword arguments given, minus the unset ones, like the prebuilt structs;
    checking happens when the struct is given to a resource, where the full path is known.
    """

    tf_fields: ClassVar[tuple[Field, ...]] = ()

    def __init__(self, **values: Any) -> None:
        self._values: dict[str, Any] = {k: v for k, v in values.items() if v is not None}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for field in type(self).tf_fields:
            if field.py == name and field.settable:
                return self._values.get(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Struct)
            and type(other) is type(self)
            and other._values == self._values
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{type(self).__name__}({args})"


def describe(spec: Spec) -> str:
    """The type as an error message names it."""
    if isinstance(spec, Primitive):
        return spec.name
    if isinstance(spec, StructOf):
        return f"{spec.struct.__name__} or a dict"
    kind = spec.kind if isinstance(spec, ListOf) else "map"
    if isinstance(spec.element, StructOf):
        return f"{kind} of {spec.element.struct.__name__} or dict items"
    return f"{kind} of {describe(spec.element)}"


def is_resolvable(value: object) -> bool:
    """True for cdktn token objects (references, functions, variables) of any type."""
    if isinstance(value, str | int | float | bool | Mapping | Sequence | Struct):
        return False
    return bool(Tokenization.is_resolvable(value))


def _is_token_string(value: object) -> bool:
    return isinstance(value, str) and bool(Token.is_unresolved(value))


# Provider schemas read from prebuilt packages do not say which attributes are sensitive, so
# values under paths with these words are never shown in errors either.
_SECRET_WORDS = ("password", "token", "secret", "key", "certificate", "credential")


def _shown(value: object, field: Field | None, path: str) -> str:
    lowered = path.lower()
    if (field is not None and field.sensitive) or any(w in lowered for w in _SECRET_WORDS):
        return f"a {type(value).__name__} (value not shown: it may be secret)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert(value: Any, spec: Spec, path: str, field: Field | None = None) -> Any:
    """Check `value` against `spec` and return its Terraform JSON form."""
    if is_resolvable(value):
        return value
    if isinstance(spec, Primitive):
        return _convert_primitive(value, spec, path, field)
    converted = _convert_composite(value, spec, path, field)
    if converted is not None:
        return converted
    if _is_token_string(value):
        return value
    raise BindingValueError(f"{path}: expected {describe(spec)}, got {_shown(value, field, path)}")


def _convert_composite(
    value: Any, spec: ListOf | MapOf | StructOf, path: str, field: Field | None
) -> list[Any] | dict[str, Any] | None:
    """The converted list, map or object; None when `value` has the wrong shape."""
    if isinstance(spec, ListOf) and isinstance(value, Sequence) and not isinstance(value, str):
        return [convert(item, spec.element, f"{path}[{i}]", field) for i, item in enumerate(value)]
    if isinstance(spec, MapOf) and isinstance(value, Mapping):
        return {
            key: convert(item, spec.element, f'{path}["{key}"]', field)
            for key, item in value.items()
        }
    if isinstance(spec, StructOf) and isinstance(value, spec.struct):
        return convert_fields(spec.struct.tf_fields, value._values, path)
    if isinstance(spec, StructOf) and isinstance(value, Mapping):
        return convert_fields(spec.struct.tf_fields, value, path)
    return None


def _convert_primitive(value: Any, spec: Primitive, path: str, field: Field | None) -> Any:
    if spec is ANY:
        return value
    if spec is STRING and isinstance(value, str):
        return value
    if spec is NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if spec is BOOL and isinstance(value, bool):
        return value
    if _is_token_string(value):
        return value
    raise BindingValueError(f"{path}: expected {spec.name}, got {_shown(value, field, path)}")


def convert_fields(
    table: tuple[Field, ...], values: Mapping[str, Any], path: str
) -> dict[str, Any]:
    """Check a block's values and return them keyed by Terraform name.

    Keys are the struct's keyword names (`mount_path`) or their jsii (camelCase) form
    (`mountPath`), which is what the prebuilt packages need for dicts inside lists.
    """
    fields = {field.py: field for field in table}
    aliases = _aliases(table)
    given: dict[str, Any] = {}
    for key, value in values.items():
        field = fields.get(key) or aliases.get(key)
        if field is None:
            raise BindingValueError(f"{path}: {_unknown(key, fields)}")
        if not field.settable:
            raise BindingValueError(f"{path}.{key}: is computed by the provider and cannot be set")
        if field.py in given:
            raise BindingValueError(f"{path}.{field.py}: given twice (also as {key!r})")
        given[field.py] = value
    result: dict[str, Any] = {}
    for field in table:
        value = given.get(field.py)
        if value is None:
            if field.required:
                raise BindingValueError(f"{path}.{field.py}: missing required attribute")
            continue
        result[field.tf] = convert(value, field.spec, f"{path}.{field.py}", field)
    return result


@functools.cache
def _aliases(table: tuple[Field, ...]) -> dict[str, Field]:
    """The jsii (camelCase) names of fields whose name has more than one word."""
    return {camel_case(f.py.rstrip("_")): f for f in table if "_" in f.py.strip("_")}


def _unknown(key: str, fields: Mapping[str, Field]) -> str:
    allowed = sorted(name for name, field in fields.items() if field.settable)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown attribute {key!r}; did you mean {close[0]!r}?"
    return f"unknown attribute {key!r}; expected one of: {', '.join(allowed)}"
