"""Offline `terraform validate`: check a synthesized `cdk.tf.json` against provider schemas.

No terraform binary can run here, so this walks every `provider`, `resource` and `data` block
of one stack and checks it against the IR of the provider schema snapshots, the way Terraform
would decode the same JSON. It reports; it never fixes.

What is checked, and the Terraform rules followed:

- Each provider local name used (by a provider block, or implied by a resource type's prefix
  before the first `_`, or named by a `provider` meta-argument) must have a `source` in
  `terraform.required_providers`. The source address is normalised like Terraform does
  (`hashicorp/aws` is `registry.terraform.io/hashicorp/aws`) and picks the schema.
- Resource and data source types must exist in their provider's schema (with a close match).
- Block bodies: unknown names (with "did you mean"), missing required attributes, attributes
  the provider computes that the user set, nested block counts (`min_items`, `max_items`;
  `single` blocks allow one). Meta-arguments (`count`, `for_each`, `depends_on`, `lifecycle`,
  `provider`, `provisioner`, `connection`; `alias` and `version` on providers) are not
  attributes. `//` is a comment at any level (HCL JSON) and `dynamic` holds dynamic blocks,
  whose content is accepted as is; a block type that has a `dynamic` entry is not counted.
- Nested blocks follow Terraform's JSON syntax: a block may be given as one object or as a
  list of objects (cdktn emits a max-one block as a bare object, other blocks as lists); paths
  index every block, so `spec[0].template[0]` names the object either way. A `map` block is an
  object keyed by label.
- Attribute values follow cty's conversion rules (what Terraform applies to a JSON value):
  a string holding an interpolation or directive (`${`, `%{`, unless escaped as `$${`/`%%{`)
  is a value only known at plan time, accepted for any type. Numbers and bools convert to
  string. A string converts to number when Go's `big.Float.Parse` in base 10 accepts all of
  it (sign, digits, optional fraction, optional `e`/`p` exponent, or `inf`), and to bool
  only when it is exactly `true`, `1`, `false` or `0`. Number and bool never convert into
  each other. `null` inside a value is accepted; an attribute set to `null` counts as unset.
  An object value must have every non-optional attribute of its object type; extra
  attributes are dropped by cty without an error, so they are not reported.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfprod.bindings.generator.ir import (
    Attribute,
    Block,
    BlockType,
    Collection,
    CollectionKind,
    NestedAttributes,
    Nesting,
    ObjectType,
    Primitive,
    ProviderSchema,
    Schema,
    TupleType,
    TypeExpr,
)
from tfprod.bindings.generator.references import Declared, value_problems

DEFAULT_REGISTRY = "registry.terraform.io"
RESOURCE_META_ARGUMENTS = frozenset(
    {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}
)
DATA_META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider"})
PROVIDER_META_ARGUMENTS = frozenset({"alias", "version"})
COMMENT_KEY = "//"
DYNAMIC_KEY = "dynamic"

_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eEpP][+-]?\d+)?|[iI]nf)")
_BOOL_STRINGS = frozenset({"true", "1", "false", "0"})
_TEMPLATE = re.compile(r"(?<![$%])[$%]\{")
_SHOWN_VALUE_CHARS = 40


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem: in `stack`, the block at `address` (e.g. `kubernetes_deployment_v1.model-a`,
    `data.aws_eks_cluster.main`, `provider.kubernetes`), at `path` inside it (e.g.
    `spec[0].template[0].spec[0].container[0].image`; empty for the block itself)."""

    stack: str
    address: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.address}: {self.path}" if self.path else self.address
        return f"{self.stack}: {where}: {self.message}"


def normalize_source(source: str) -> str:
    """Terraform's fully qualified provider source: `[hostname/]namespace/type`, lowercased;
    a bare `type` is in the `hashicorp` namespace of the default registry."""
    parts = source.strip().lower().split("/")
    if len(parts) == 1:
        parts = ["hashicorp", *parts]
    if len(parts) == 2:  # namespace/type
        parts = [DEFAULT_REGISTRY, *parts]
    return "/".join(parts)


def validate_stack(
    stack_json: Mapping[str, Any],
    schemas: Sequence[ProviderSchema],
    *,
    stack: str | None = None,
) -> list[Finding]:
    """Every finding for one synthesized stack, in document order. `stack` names the stack in
    the findings; by default it is the `//.metadata.stackName` cdktn writes."""
    name = stack if stack is not None else _stack_name(stack_json)
    return list(_StackChecker(stack_json, schemas, name).run())


def provider_sources(stack_json: Mapping[str, Any]) -> set[str]:
    """The normalised source of every provider the stack uses, as `validate_stack` resolves
    them: declared in `required_providers`, or implied for a local name without a source."""
    checker = _StackChecker(stack_json, [], "")
    names = set(checker.required)
    names.update(name for name, _ in _items(stack_json.get("provider", {})))
    for kind in ("resource", "data"):
        for type_name_, named in _items(stack_json.get(kind, {})):
            for _, bodies in _items(named):
                names.update(_provider_local_name(type_name_, body) for body in _bodies(bodies))
    return {checker.source(name) for name in names}


def _stack_name(stack_json: Mapping[str, Any]) -> str:
    metadata = stack_json.get(COMMENT_KEY, {})
    inner = metadata.get("metadata", {}) if isinstance(metadata, Mapping) else {}
    stack_name = inner.get("stackName", "") if isinstance(inner, Mapping) else ""
    return stack_name if isinstance(stack_name, str) else ""


class _StackChecker:
    def __init__(
        self, stack_json: Mapping[str, Any], schemas: Sequence[ProviderSchema], stack: str
    ) -> None:
        self._json = stack_json
        self._schemas = {normalize_source(schema.source): schema for schema in schemas}
        self._stack = stack
        terraform = stack_json.get("terraform", {})
        required = terraform.get("required_providers", {}) if isinstance(terraform, Mapping) else {}
        self.required: Mapping[str, Any] = required if isinstance(required, Mapping) else {}
        self._missing_source_reported: set[str] = set()

    def run(self) -> Iterator[Finding]:
        yield from self._providers()
        yield from self._resources("resource")
        yield from self._resources("data")
        yield from self._references()

    def _references(self) -> Iterator[Finding]:
        """What `${...}` templates name: declared variables, locals, data sources, resources,
        and attributes their schemas have (`tfprod.bindings.generator.references`)."""
        resource_schemas = {
            type_name: resource.block
            for schema in self._schemas.values()
            for type_name, resource in schema.resources
        }
        declared = Declared.of(self._json, resource_schemas)
        blocks: list[tuple[str, Any]] = []
        for local_name, bodies in _items(self._json.get("provider", {})):
            blocks += [(f"provider.{local_name}", body) for body in _bodies(bodies)]
        for kind in ("resource", "data"):
            prefix = "" if kind == "resource" else "data."
            for type_name, named in _items(self._json.get(kind, {})):
                for name, bodies in _items(named):
                    address = f"{prefix}{type_name}.{name}"
                    blocks += [(address, body) for body in _bodies(bodies)]
        blocks += [(f"output.{name}", body) for name, body in _items(self._json.get("output", {}))]
        blocks += [(f"local.{name}", value) for name, value in _items(self._json.get("locals", {}))]
        for address, body in blocks:
            for path, message in value_problems(body, "", declared):
                yield self._finding(address, path, message)

    def _finding(self, address: str, path: str, message: str) -> Finding:
        return Finding(stack=self._stack, address=address, path=path, message=message)

    def source(self, local_name: str) -> str:
        """The normalised source `required_providers` gives a local name; without one,
        Terraform implies `hashicorp/<name>`."""
        entry = self.required.get(local_name)
        source = entry.get("source") if isinstance(entry, Mapping) else None
        return normalize_source(source if isinstance(source, str) and source else local_name)

    def _missing_source(self, local_name: str) -> Iterator[Finding]:
        """A finding, once per local name, when `required_providers` names no source for it."""
        entry = self.required.get(local_name)
        source = entry.get("source") if isinstance(entry, Mapping) else None
        if (isinstance(source, str) and source) or local_name in self._missing_source_reported:
            return
        self._missing_source_reported.add(local_name)
        yield self._finding(
            "terraform",
            f"required_providers.{local_name}",
            f'no source for provider {local_name!r}; add "source" (e.g. "hashicorp/{local_name}")',
        )

    def _providers(self) -> Iterator[Finding]:
        for local_name, bodies in _items(self._json.get("provider", {})):
            yield from self._missing_source(local_name)
            source = self.source(local_name)
            schema = self._schemas.get(source)
            for body in _bodies(bodies):
                alias = body.get("alias") if isinstance(body, Mapping) else None
                address = f"provider.{local_name}" + (f".{alias}" if alias else "")
                if schema is None:
                    yield self._finding(
                        address,
                        "",
                        f"no schema snapshot for provider {source}{self._known(source)}",
                    )
                    continue
                yield from self._block(
                    address, schema.provider.block, body, "", PROVIDER_META_ARGUMENTS
                )

    def _known(self, source: str) -> str:
        by_name = {known.rsplit("/", 1)[-1]: known for known in self._schemas}
        close = difflib.get_close_matches(source.rsplit("/", 1)[-1], list(by_name), n=1)
        if close:
            return f"; did you mean {by_name[close[0]]}?"
        return "; snapshots: " + (", ".join(sorted(self._schemas)) or "none")

    def _resources(self, kind: str) -> Iterator[Finding]:
        meta = RESOURCE_META_ARGUMENTS if kind == "resource" else DATA_META_ARGUMENTS
        noun = "resource type" if kind == "resource" else "data source type"
        for type_name, named in _items(self._json.get(kind, {})):
            for name, bodies in _items(named):
                address = (
                    f"{type_name}.{name}" if kind == "resource" else f"data.{type_name}.{name}"
                )
                for body in _bodies(bodies):
                    local_name = _provider_local_name(type_name, body)
                    source = self.source(local_name)
                    schema = self._schemas.get(source)
                    if schema is None:
                        yield self._finding(
                            address,
                            "",
                            f"unknown {noun} {type_name!r}: no schema snapshot for provider "
                            f"{source}" + self._suggest_any(kind, type_name),
                        )
                        continue
                    yield from self._missing_source(local_name)
                    types = dict(schema.resources if kind == "resource" else schema.data_sources)
                    resource_schema = types.get(type_name)
                    if resource_schema is None:
                        yield self._finding(
                            address,
                            "",
                            f"unknown {noun} {type_name!r} in {_describe(schema)}"
                            + _suggest(type_name, types),
                        )
                        continue
                    yield from self._block(address, resource_schema.block, body, "", meta)

    def _suggest_any(self, kind: str, type_name: str) -> str:
        names: dict[str, Schema] = {}
        for schema in self._schemas.values():
            names.update(schema.resources if kind == "resource" else schema.data_sources)
        return _suggest(type_name, names)

    def _block(
        self, address: str, block: Block, body: Any, path: str, meta: frozenset[str] = frozenset()
    ) -> Iterator[Finding]:
        if not isinstance(body, Mapping):
            yield self._finding(address, path, f"expected a block (an object), got {_show(body)}")
            return
        attributes = {attribute.name: attribute for attribute in block.attributes}
        block_types = {block_type.name: block_type for block_type in block.block_types}
        dynamic = body.get(DYNAMIC_KEY)
        dynamic_names = set(dynamic) if isinstance(dynamic, Mapping) else set()
        for key, value in body.items():
            here = _join(path, key)
            if (
                key in meta
                or key == COMMENT_KEY
                or (key == DYNAMIC_KEY and DYNAMIC_KEY not in attributes)
            ):
                continue
            if key in attributes:
                yield from self._attribute(address, attributes[key], value, here)
            elif key in block_types:
                yield from self._nested_blocks(address, block_types[key], value, here)
            else:
                yield self._finding(
                    address,
                    here,
                    "unknown attribute" + _suggest(key, {**attributes, **block_types}),
                )
        for attribute in block.attributes:
            if attribute.required and body.get(attribute.name) is None:
                yield self._finding(
                    address, _join(path, attribute.name), "missing required attribute"
                )
        for block_type in block.block_types:
            if block_type.name not in body and block_type.name not in dynamic_names:
                yield from self._count(address, block_type, 0, _join(path, block_type.name))

    def _attribute(
        self, address: str, attribute: Attribute, value: Any, path: str
    ) -> Iterator[Finding]:
        if value is None:
            return
        if attribute.computed and not (attribute.optional or attribute.required):
            yield self._finding(address, path, "computed by the provider; it cannot be set")
            return
        if attribute.nested is not None:
            yield from self._nested_attributes(address, attribute.nested, value, path)
        elif attribute.type is not None:
            problem = _type_problem(attribute.type, value, path, attribute.sensitive)
            if problem is not None:
                yield self._finding(address, *problem)

    def _nested_attributes(
        self, address: str, nested: NestedAttributes, value: Any, path: str
    ) -> Iterator[Finding]:
        """Protocol 6 nested attributes: shaped like a block but written as a value, so an
        interpolation may stand for the whole of it."""
        if _is_template(value):
            return
        block = Block(attributes=nested.attributes)
        if nested.nesting in (Nesting.SINGLE, Nesting.GROUP):
            yield from self._block(address, block, value, path)
            return
        if nested.nesting is Nesting.MAP:
            if not isinstance(value, Mapping):
                yield self._finding(address, path, f"expected a map of objects, got {_show(value)}")
                return
            for label, item in value.items():
                if not _is_template(item):
                    yield from self._block(address, block, item, f"{path}[{json.dumps(label)}]")
            return
        if not isinstance(value, list):
            yield self._finding(address, path, f"expected a list of objects, got {_show(value)}")
            return
        for index, item in enumerate(value):
            if not _is_template(item):
                yield from self._block(address, block, item, f"{path}[{index}]")
        yield from self._count_items(
            address, path, len(value), nested.min_items, nested.max_items, noun="items"
        )

    def _nested_blocks(
        self, address: str, block_type: BlockType, value: Any, path: str
    ) -> Iterator[Finding]:
        if block_type.nesting is Nesting.MAP:
            if not isinstance(value, Mapping):
                yield self._finding(
                    address, path, f"expected blocks keyed by label, got {_show(value)}"
                )
                return
            for label, bodies in value.items():
                for index, body in enumerate(_bodies(bodies)):
                    suffix = f"[{json.dumps(label)}]" + (f"[{index}]" if index else "")
                    yield from self._block(address, block_type.block, body, path + suffix)
            return
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list):
            yield self._finding(
                address,
                path,
                f"expected a block (an object or a list of objects), got {_show(value)}",
            )
            return
        for index, body in enumerate(value):
            yield from self._block(address, block_type.block, body, f"{path}[{index}]")
        yield from self._count(address, block_type, len(value), path)

    def _count(
        self, address: str, block_type: BlockType, given: int, path: str
    ) -> Iterator[Finding]:
        single = block_type.nesting in (Nesting.SINGLE, Nesting.GROUP)
        max_items = 1 if single else block_type.max_items
        yield from self._count_items(address, path, given, block_type.min_items, max_items)

    def _count_items(
        self,
        address: str,
        path: str,
        given: int,
        min_items: int,
        max_items: int | None,
        *,
        noun: str = "blocks",
    ) -> Iterator[Finding]:
        if given < min_items:
            needed = (
                "missing required block" if given == 0 and noun == "blocks" else f"too few {noun}"
            )
            yield self._finding(address, path, f"{needed}: at least {min_items}, got {given}")
        if max_items is not None and given > max_items:
            yield self._finding(address, path, f"too many {noun}: at most {max_items}, got {given}")


def _type_problem(
    type_expr: TypeExpr, value: Any, path: str, sensitive: bool
) -> tuple[str, str] | None:
    """(path, message) for the first place `value` cannot convert to `type_expr`, else None."""
    if value is None or type_expr is Primitive.DYNAMIC or _is_template(value):
        return None
    if isinstance(type_expr, Primitive):
        converts = _PRIMITIVE_CHECKS[type_expr](value)
        problem = None if converts else _mismatch(type_expr, value, path, sensitive)
    elif isinstance(type_expr, Collection):
        problem = _collection_problem(type_expr, value, path, sensitive)
    elif isinstance(type_expr, TupleType):
        problem = _tuple_problem(type_expr, value, path, sensitive)
    else:
        problem = _object_problem(type_expr, value, path, sensitive)
    return problem


def _mismatch(type_expr: TypeExpr, value: Any, path: str, sensitive: bool) -> tuple[str, str]:
    shown = "(sensitive value)" if sensitive else _show(value)
    return (path, f"expected {type_name(type_expr)}, got {shown}")


def _collection_problem(
    type_expr: Collection, value: Any, path: str, sensitive: bool
) -> tuple[str, str] | None:
    children = _collection_children(type_expr.kind, value, path)
    if children is None:
        return _mismatch(type_expr, value, path, sensitive)
    return _first(
        _type_problem(type_expr.element, child, child_path, sensitive)
        for child_path, child in children
    )


def _tuple_problem(
    type_expr: TupleType, value: Any, path: str, sensitive: bool
) -> tuple[str, str] | None:
    if not isinstance(value, list) or len(value) != len(type_expr.elements):
        return _mismatch(type_expr, value, path, sensitive)
    return _first(
        _type_problem(element, child, f"{path}[{index}]", sensitive)
        for index, (element, child) in enumerate(zip(type_expr.elements, value, strict=True))
    )


def _object_problem(
    type_expr: ObjectType, value: Any, path: str, sensitive: bool
) -> tuple[str, str] | None:
    if not isinstance(value, Mapping):
        return _mismatch(type_expr, value, path, sensitive)
    missing = [
        name
        for name, _ in type_expr.attributes
        if name not in value and name not in type_expr.optional
    ]
    if missing:
        return (path, f"expected {type_name(type_expr)}, missing attribute {missing[0]!r}")
    return _first(
        _type_problem(attr_type, value[name], _join(path, name), sensitive)
        for name, attr_type in type_expr.attributes
        if name in value
    )


def _collection_children(
    kind: CollectionKind, value: Any, path: str
) -> list[tuple[str, Any]] | None:
    if kind is CollectionKind.MAP:
        if not isinstance(value, Mapping):
            return None
        return [(f"{path}[{json.dumps(key)}]", child) for key, child in value.items()]
    if not isinstance(value, list):
        return None
    return [(f"{path}[{index}]", child) for index, child in enumerate(value)]


def _first(problems: Iterator[tuple[str, str] | None]) -> tuple[str, str] | None:
    return next((problem for problem in problems if problem is not None), None)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value in _BOOL_STRINGS)


def _is_string(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool is an int: true/false convert too


_PRIMITIVE_CHECKS: Mapping[Primitive, Callable[[Any], bool]] = {
    Primitive.STRING: _is_string,
    Primitive.NUMBER: _is_number,
    Primitive.BOOL: _is_bool,
    Primitive.DYNAMIC: lambda _value: True,
}


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and _TEMPLATE.search(value) is not None


def type_name(type_expr: TypeExpr) -> str:
    """Terraform's spelling of a type constraint, e.g. `list(string)`, `object({a=number})`."""
    if isinstance(type_expr, Primitive):
        return "any" if type_expr is Primitive.DYNAMIC else type_expr.value
    if isinstance(type_expr, Collection):
        return f"{type_expr.kind.value}({type_name(type_expr.element)})"
    if isinstance(type_expr, TupleType):
        return "tuple([" + ", ".join(type_name(element) for element in type_expr.elements) + "])"
    return (
        "object({"
        + ", ".join(f"{name}={type_name(attr_type)}" for name, attr_type in type_expr.attributes)
        + "})"
    )


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        yield from value.items()


def _bodies(value: Any) -> list[Any]:
    """Terraform JSON allows one object or a list of objects wherever a block goes."""
    return list(value) if isinstance(value, list) else [value]


def _provider_local_name(type_name_: str, body: Any) -> str:
    """The `provider` meta-argument's local name (`aws.west` or `${aws.west}`), else the
    resource type's prefix before the first `_`, as Terraform implies it."""
    provider = body.get("provider") if isinstance(body, Mapping) else None
    if isinstance(provider, str) and provider:
        return provider.removeprefix("${").removesuffix("}").split(".", 1)[0]
    return type_name_.split("_", 1)[0]


def _describe(schema: ProviderSchema) -> str:
    return f"{schema.name} {schema.version}" if schema.version else schema.name


def _suggest(name: str, candidates: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    if close:
        return f"; did you mean {close[0]}?"
    return "; allowed: " + (", ".join(sorted(candidates)) or "none")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    if len(text) > _SHOWN_VALUE_CHARS:
        return text[: _SHOWN_VALUE_CHARS - 3] + "..."
    return text
