"""Front end and writer for the documented output of `terraform providers schema -json`.

`load_schema_json` reads format_version 1.x strictly: every malformed field raises
`SchemaError` naming its JSON path, e.g. `$.provider_schemas["registry.terraform.io/hashicorp/
kubernetes"].resource_schemas.kubernetes_namespace_v1.block.attributes.name.type`. Keys that
Terraform emits but the IR has no place for (`description_kind`, `functions`, ephemeral/
identity/list/action schemas) are accepted and dropped, so a markdown description comes back
as plain; any other key is an error, so a typo such as `atributes` cannot empty a block.

`dump_schema_json` writes the same format deterministically (sorted keys, 1-space indent,
trailing newline), omitting false flags and zero item counts as Terraform does.

The standard format has no place for a provider's version, nor for the source spelling the
prebuilt package writes into `required_providers`. tfprod records both in an extra top-level
key that Terraform's own consumers ignore:
`"tfprod": {"providers": {SOURCE: {"version": "5.10.0", "terraform_source": "azurerm",
"cdktn_package": "cdktn-provider-azurerm==18.9.0"}}}`. `load_schema_json` reads them from
there (absent: `None`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from tfprod.bindings.generator import ir

FORMAT_VERSION = "1.0"
METADATA_KEY = "tfprod"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_EXPR_HELP = (
    'a type expression ("string", "number", "bool", "dynamic", ["list"|"set"|"map", T], '
    '["object", {NAME: T, ...}] or ["tuple", [T, ...]])'
)
_IGNORED_PROVIDER_KEYS = frozenset(
    {
        "functions",
        "ephemeral_resource_schemas",
        "resource_identity_schemas",
        "list_resource_schemas",
        "action_schemas",
    }
)

T = TypeVar("T")


class SchemaError(ValueError):
    """A provider schema is malformed, or asks for a type it does not have."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`; did you mean X?` for the closest match of `name`, or empty when nothing is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.8)
    return f"; did you mean {close[0]}?" if close else ""


def _path_key(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _show(value: object) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(path: str, expected: str, value: object) -> SchemaError:
    return SchemaError(f"{path}: expected {expected}, got {_show(value)}")


def _object(value: object, path: str, *, allowed: Collection[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "an object", value)
    for key in value:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise SchemaError(
                f"{_path_key(path, key)}: unknown key; allowed: {', '.join(sorted(allowed))}{hint}"
            )
    return value


def _mapping(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "an object", value)
    return value


def _bool(obj: Mapping[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise _fail(_path_key(path, key), "true or false", value)
    return value


def _str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise _fail(_path_key(path, key), "a string", value)
    return value


def _count(obj: Mapping[str, Any], key: str, path: str) -> int:
    value = obj.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(_path_key(path, key), "a non-negative integer", value)
    return value


def _description_kind(obj: Mapping[str, Any], path: str) -> None:
    kind = obj.get("description_kind", "plain")
    if kind not in ("plain", "markdown"):
        raise _fail(_path_key(path, "description_kind"), '"plain" or "markdown"', kind)


def _nesting(value: object, path: str, allowed: Sequence[ir.Nesting]) -> ir.Nesting:
    names = [n.value for n in allowed]
    if value not in names:
        raise _fail(path, "one of " + ", ".join(json.dumps(n) for n in names), value)
    return ir.Nesting(value)


def _sorted_named(
    value: object, path: str, parse: Callable[[str, Any, str], T]
) -> tuple[tuple[str, T], ...]:
    items = _mapping(value, path)
    return tuple((name, parse(name, items[name], _path_key(path, name))) for name in sorted(items))


def parse_type(value: object, path: str = "$") -> ir.TypeExpr:
    """A Terraform type expression (cty JSON type notation) as an IR type."""
    if isinstance(value, str):
        try:
            return ir.Primitive(value)
        except ValueError:
            raise _fail(path, _TYPE_EXPR_HELP, value) from None
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise _fail(path, _TYPE_EXPR_HELP, value)
    kind = value[0]
    if kind in ("list", "set", "map") and len(value) == 2:
        element = parse_type(value[1], f"{path}[1]")
        return ir.Collection(kind=ir.CollectionKind(kind), element=element)
    if kind == "object" and len(value) in (2, 3):
        attrs = _sorted_named(value[1], f"{path}[1]", lambda _n, v, p: parse_type(v, p))
        optional: frozenset[str] = frozenset()
        if len(value) == 3:
            names = value[2]
            if not isinstance(names, list) or not all(
                isinstance(n, str) and n in dict(attrs) for n in names
            ):
                raise _fail(f"{path}[2]", "a list of the object's attribute names", names)
            optional = frozenset(names)
        return ir.ObjectType(attributes=attrs, optional=optional)
    if kind == "tuple" and len(value) == 2:
        if not isinstance(value[1], list):
            raise _fail(f"{path}[1]", "a list of type expressions", value[1])
        return ir.TupleType(
            elements=tuple(parse_type(v, f"{path}[1][{i}]") for i, v in enumerate(value[1]))
        )
    raise _fail(path, _TYPE_EXPR_HELP, value)


_ATTRIBUTE_KEYS = frozenset(
    {
        "type",
        "nested_type",
        "description",
        "description_kind",
        "required",
        "optional",
        "computed",
        "sensitive",
        "deprecated",
        "write_only",
    }
)


def _attribute(name: str, value: object, path: str) -> ir.Attribute:
    obj = _object(value, path, allowed=_ATTRIBUTE_KEYS)
    _description_kind(obj, path)
    has_type, has_nested = "type" in obj, "nested_type" in obj
    if has_type == has_nested:
        raise SchemaError(
            f"{path}: expected exactly one of type and nested_type, got "
            + ("both" if has_type else "neither")
        )
    required, optional, computed = (
        _bool(obj, k, path) for k in ("required", "optional", "computed")
    )
    if required == (optional or computed):
        raise SchemaError(
            f"{path}: expected required, or optional and/or computed, got "
            f"required={json.dumps(required)}, optional={json.dumps(optional)}, "
            f"computed={json.dumps(computed)}"
        )
    return ir.Attribute(
        name=name,
        type=parse_type(obj["type"], f"{path}.type") if has_type else None,
        nested=_nested_type(obj["nested_type"], f"{path}.nested_type") if has_nested else None,
        required=required,
        optional=optional,
        computed=computed,
        sensitive=_bool(obj, "sensitive", path),
        deprecated=_bool(obj, "deprecated", path),
        description=_str(obj, "description", path),
        write_only=_bool(obj, "write_only", path),
    )


def _max_items(obj: Mapping[str, Any], path: str) -> int | None:
    return _count(obj, "max_items", path) or None


def _nested_type(value: object, path: str) -> ir.NestedAttributes:
    keys = {"attributes", "nesting_mode", "min_items", "max_items"}
    obj = _object(value, path, allowed=keys)
    modes = (ir.Nesting.SINGLE, ir.Nesting.LIST, ir.Nesting.SET, ir.Nesting.MAP)
    return ir.NestedAttributes(
        nesting=_nesting(obj.get("nesting_mode"), f"{path}.nesting_mode", modes),
        attributes=tuple(
            a for _, a in _sorted_named(obj.get("attributes", {}), f"{path}.attributes", _attribute)
        ),
        min_items=_count(obj, "min_items", path),
        max_items=_max_items(obj, path),
    )


def _block_type(name: str, value: object, path: str) -> ir.BlockType:
    keys = {"nesting_mode", "block", "min_items", "max_items"}
    obj = _object(value, path, allowed=keys)
    if "block" not in obj:
        raise SchemaError(f"{path}.block: missing")
    return ir.BlockType(
        name=name,
        nesting=_nesting(obj.get("nesting_mode"), f"{path}.nesting_mode", tuple(ir.Nesting)),
        block=_block(obj["block"], f"{path}.block"),
        min_items=_count(obj, "min_items", path),
        max_items=_max_items(obj, path),
    )


def _block(value: object, path: str) -> ir.Block:
    keys = {"attributes", "block_types", "description", "description_kind", "deprecated"}
    obj = _object(value, path, allowed=keys)
    _description_kind(obj, path)
    attributes = _sorted_named(obj.get("attributes", {}), f"{path}.attributes", _attribute)
    block_types = _sorted_named(obj.get("block_types", {}), f"{path}.block_types", _block_type)
    clash = sorted(set(dict(attributes)) & set(dict(block_types)))
    if clash:
        raise SchemaError(f"{path}: {clash[0]!r} is both an attribute and a block type")
    return ir.Block(
        attributes=tuple(a for _, a in attributes),
        block_types=tuple(b for _, b in block_types),
        description=_str(obj, "description", path),
        deprecated=_bool(obj, "deprecated", path),
    )


def _schema(_name: str, value: object, path: str) -> ir.Schema:
    obj = _object(value, path, allowed={"version", "block"})
    if "block" not in obj:
        raise SchemaError(f"{path}.block: missing")
    return ir.Schema(
        version=_count(obj, "version", path), block=_block(obj["block"], f"{path}.block")
    )


def _provider(source: str, value: object, path: str, version: str | None) -> ir.ProviderSchema:
    keys = {"provider", "resource_schemas", "data_source_schemas"} | _IGNORED_PROVIDER_KEYS
    obj = _object(value, path, allowed=keys)
    provider = (
        _schema(source, obj["provider"], f"{path}.provider") if "provider" in obj else ir.Schema()
    )
    return ir.ProviderSchema(
        source=source,
        version=version,
        provider=provider,
        resources=_sorted_named(
            obj.get("resource_schemas", {}), f"{path}.resource_schemas", _schema
        ),
        data_sources=_sorted_named(
            obj.get("data_source_schemas", {}), f"{path}.data_source_schemas", _schema
        ),
    )


def _metadata(value: object) -> dict[str, dict[str, str]]:
    """Per source, the `version` and `terraform_source` the metadata key records."""
    path = f"$.{METADATA_KEY}"
    meta = _object(value, path, allowed={"providers"})
    providers = _mapping(meta.get("providers", {}), f"{path}.providers")
    result = {}
    for source, entry in providers.items():
        entry_path = _path_key(f"{path}.providers", source)
        info = _object(entry, entry_path, allowed={"version", "cdktn_package", "terraform_source"})
        _str(info, "cdktn_package", entry_path)
        recorded = {key: _str(info, key, entry_path) for key in ("version", "terraform_source")}
        result[source] = {key: text for key, text in recorded.items() if text}
    return result


def load_schema_json(text_or_path: str | Path) -> list[ir.ProviderSchema]:
    """Parses a provider schema document: a `Path` is read from disk, a `str` is the JSON text.
    Providers come back sorted by source address."""
    text = (
        text_or_path.read_text(encoding="utf-8") if isinstance(text_or_path, Path) else text_or_path
    )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(f"$: not JSON: {error}") from None
    obj = _object(document, "$", allowed={"format_version", "provider_schemas", METADATA_KEY})
    version = obj.get("format_version")
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise _fail("$.format_version", '"1.x"', version)
    metadata = _metadata(obj.get(METADATA_KEY, {}))
    providers = _mapping(obj.get("provider_schemas", {}), "$.provider_schemas")
    return [
        replace(
            _provider(
                source,
                providers[source],
                _path_key("$.provider_schemas", source),
                metadata.get(source, {}).get("version"),
            ),
            terraform_source=metadata.get(source, {}).get("terraform_source"),
        )
        for source in sorted(providers)
    ]


def type_to_json(expr: ir.TypeExpr) -> Any:
    """The cty JSON notation of an IR type (the inverse of `parse_type`)."""
    if isinstance(expr, ir.Primitive):
        return expr.value
    if isinstance(expr, ir.Collection):
        return [expr.kind.value, type_to_json(expr.element)]
    if isinstance(expr, ir.ObjectType):
        attrs = {name: type_to_json(t) for name, t in expr.attributes}
        return ["object", attrs, sorted(expr.optional)] if expr.optional else ["object", attrs]
    return ["tuple", [type_to_json(t) for t in expr.elements]]


def _flags(obj: dict[str, Any], **flags: bool) -> dict[str, Any]:
    obj.update({key: True for key, value in flags.items() if value})
    return obj


def _items(obj: dict[str, Any], min_items: int, max_items: int | None) -> dict[str, Any]:
    if min_items:
        obj["min_items"] = min_items
    if max_items:
        obj["max_items"] = max_items
    return obj


def _attribute_json(attr: ir.Attribute) -> dict[str, Any]:
    obj: dict[str, Any] = {"description_kind": "plain"}
    if attr.nested is not None:
        nested = {
            "attributes": {a.name: _attribute_json(a) for a in attr.nested.attributes},
            "nesting_mode": attr.nested.nesting.value,
        }
        obj["nested_type"] = _items(nested, attr.nested.min_items, attr.nested.max_items)
    elif attr.type is not None:
        obj["type"] = type_to_json(attr.type)
    if attr.description:
        obj["description"] = attr.description
    return _flags(
        obj,
        required=attr.required,
        optional=attr.optional,
        computed=attr.computed,
        sensitive=attr.sensitive,
        deprecated=attr.deprecated,
        write_only=attr.write_only,
    )


def _block_json(block: ir.Block) -> dict[str, Any]:
    obj: dict[str, Any] = {"description_kind": "plain"}
    if block.attributes:
        obj["attributes"] = {a.name: _attribute_json(a) for a in block.attributes}
    if block.block_types:
        obj["block_types"] = {
            b.name: _items(
                {"nesting_mode": b.nesting.value, "block": _block_json(b.block)},
                b.min_items,
                b.max_items,
            )
            for b in block.block_types
        }
    if block.description:
        obj["description"] = block.description
    return _flags(obj, deprecated=block.deprecated)


def _schema_json(schema: ir.Schema) -> dict[str, Any]:
    return {"version": schema.version, "block": _block_json(schema.block)}


def dump_schema_json(
    schemas: Iterable[ir.ProviderSchema], *, packages: Mapping[str, str] | None = None
) -> str:
    """The standard schema document for `schemas`, plus the `tfprod` metadata key holding each
    provider's version and, from `packages` (source -> `name==version`), the prebuilt package
    it was read from. Same input, same bytes."""
    providers: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for schema in schemas:
        providers[schema.source] = {
            "provider": _schema_json(schema.provider),
            "resource_schemas": {name: _schema_json(s) for name, s in schema.resources},
            "data_source_schemas": {name: _schema_json(s) for name, s in schema.data_sources},
        }
        info = {"version": schema.version} if schema.version else {}
        if schema.terraform_source:
            info["terraform_source"] = schema.terraform_source
        if packages and schema.source in packages:
            info["cdktn_package"] = packages[schema.source]
        if info:
            metadata[schema.source] = info
    document: dict[str, Any] = {"format_version": FORMAT_VERSION, "provider_schemas": providers}
    if metadata:
        document[METADATA_KEY] = {"providers": metadata}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _pick(
    schema: ir.ProviderSchema,
    available: tuple[tuple[str, ir.Schema], ...],
    wanted: Iterable[str],
    what: str,
) -> tuple[tuple[str, ir.Schema], ...]:
    table = dict(available)
    wanted = sorted(set(wanted))
    for name in wanted:
        if name not in table:
            version = f" {schema.version}" if schema.version else ""
            hint = did_you_mean(name, table)
            raise SchemaError(f"unknown {what} {name!r} in {schema.name}{version}{hint}")
    return tuple((name, table[name]) for name in wanted)


def select(
    schema: ir.ProviderSchema,
    *,
    resources: Iterable[str] = (),
    data_sources: Iterable[str] = (),
) -> ir.ProviderSchema:
    """`schema` cut down to the named resource and data source types (and the provider block).
    An unknown name raises `SchemaError` suggesting close matches."""
    return replace(
        schema,
        resources=_pick(schema, schema.resources, resources, "resource type"),
        data_sources=_pick(schema, schema.data_sources, data_sources, "data source type"),
    )
