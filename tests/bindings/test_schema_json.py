"""The `terraform providers schema -json` front end: strict loading, deterministic dumping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st

from tfprod.bindings.generator import ir
from tfprod.bindings.generator.schema_json import (
    SchemaError,
    dump_schema_json,
    load_schema_json,
    parse_type,
    select,
    type_to_json,
)

DATA = Path(__file__).parent / "data"
EVERY_TYPE = DATA / "every_type.json"
SNAPSHOTS = Path(__file__).parents[2] / "tfprod" / "bindings" / "snapshots"
K8S = "registry.terraform.io/hashicorp/kubernetes"
TOY = "registry.terraform.io/example/toy"

STRING, NUMBER, BOOL = ir.Primitive.STRING, ir.Primitive.NUMBER, ir.Primitive.BOOL


def _toy() -> ir.ProviderSchema:
    [schema] = load_schema_json(EVERY_TYPE)
    return schema


def _widget() -> ir.Block:
    return dict(_toy().resources)["toy_widget"].block


def _attr(block: ir.Block, name: str) -> ir.Attribute:
    return next(a for a in block.attributes if a.name == name)


def _block_type(block: ir.Block, name: str) -> ir.BlockType:
    return next(b for b in block.block_types if b.name == name)


def test_loads_provider_version_and_source_from_tfprod_metadata() -> None:
    schema = _toy()
    assert (schema.source, schema.name, schema.version) == (TOY, "toy", "1.2.3")
    assert [name for name, _ in schema.data_sources] == ["toy_widget"]
    assert _attr(schema.provider.block, "token").sensitive is True


def test_loads_version_as_none_without_tfprod_metadata() -> None:
    document = json.loads(EVERY_TYPE.read_text())
    del document["tfprod"]
    [schema] = load_schema_json(json.dumps(document))
    assert schema.version is None


def test_loads_every_primitive_and_collection_type() -> None:
    widget = _widget()
    types = {a.name: a.type for a in widget.attributes if a.type is not None}
    assert types == {
        "anything": ir.Primitive.DYNAMIC,
        "enabled": BOOL,
        "id": STRING,
        "matrix": ir.Collection(
            kind=ir.CollectionKind.LIST,
            element=ir.Collection(kind=ir.CollectionKind.LIST, element=BOOL),
        ),
        "name": STRING,
        "owner": ir.ObjectType(
            attributes=(("age", NUMBER), ("email", STRING)), optional=frozenset({"age"})
        ),
        "pair": ir.TupleType(elements=(STRING, NUMBER)),
        "ports": ir.Collection(kind=ir.CollectionKind.LIST, element=NUMBER),
        "secret": STRING,
        "size": NUMBER,
        "status": ir.Collection(
            kind=ir.CollectionKind.LIST,
            element=ir.ObjectType(attributes=(("phase", STRING),)),
        ),
        "tags": ir.Collection(kind=ir.CollectionKind.MAP, element=STRING),
        "zones": ir.Collection(kind=ir.CollectionKind.SET, element=STRING),
    }


def test_loads_attribute_flags_and_descriptions() -> None:
    widget = _widget()
    assert _attr(widget, "name") == ir.Attribute(
        name="name", type=STRING, required=True, description="The widget's name."
    )
    assert _attr(widget, "id") == ir.Attribute(name="id", type=STRING, optional=True, computed=True)
    assert _attr(widget, "zones").deprecated is True
    assert (_attr(widget, "secret").sensitive, _attr(widget, "secret").write_only) == (True, True)
    assert widget.description == "A toy widget."


def test_loads_every_nested_attribute_nesting_mode() -> None:
    widget = _widget()
    nested = {a.name: a.nested for a in widget.attributes if a.nested is not None}
    assert {name: (n.nesting, n.min_items, n.max_items) for name, n in nested.items()} == {
        "bag": (ir.Nesting.SET, 0, None),
        "dict": (ir.Nesting.MAP, 0, None),
        "many": (ir.Nesting.LIST, 1, 3),
        "one": (ir.Nesting.SINGLE, 0, None),
    }
    assert nested["one"].attributes == (ir.Attribute(name="a", type=STRING, required=True),)


def test_loads_every_block_nesting_mode_with_item_counts() -> None:
    widget = _widget()
    shapes = {b.name: (b.nesting, b.min_items, b.max_items) for b in widget.block_types}
    assert shapes == {
        "label": (ir.Nesting.MAP, 0, None),
        "settings": (ir.Nesting.GROUP, 0, None),
        "spec": (ir.Nesting.LIST, 1, 1),
        "timeouts": (ir.Nesting.SINGLE, 0, None),
    }
    rule = _block_type(_block_type(widget, "spec").block, "rule")
    assert rule.nesting is ir.Nesting.SET
    assert (rule.block.description, rule.block.deprecated) == ("A rule.", True)
    assert dict(_toy().resources)["toy_widget"].version == 2


def test_round_trips_load_dump_load() -> None:
    schemas = load_schema_json(EVERY_TYPE)
    dumped = dump_schema_json(schemas, packages={TOY: "cdktn-provider-toy==9.0.0"})
    assert load_schema_json(dumped) == schemas
    assert dump_schema_json(
        load_schema_json(dumped), packages={TOY: "cdktn-provider-toy==9.0.0"}
    ) == (dumped)


def test_dump_is_sorted_one_space_indented_with_trailing_newline_and_metadata() -> None:
    dumped = dump_schema_json(
        load_schema_json(EVERY_TYPE), packages={TOY: "cdktn-provider-toy==9.0.0"}
    )
    document = json.loads(dumped)
    assert dumped == json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert document["format_version"] == "1.0"
    assert document["tfprod"] == {
        "providers": {TOY: {"cdktn_package": "cdktn-provider-toy==9.0.0", "version": "1.2.3"}}
    }
    spec = document["provider_schemas"][TOY]["resource_schemas"]["toy_widget"]["block"][
        "block_types"
    ]["spec"]
    assert (spec["nesting_mode"], spec["min_items"], spec["max_items"]) == ("list", 1, 1)
    timeouts = document["provider_schemas"][TOY]["resource_schemas"]["toy_widget"]["block"][
        "block_types"
    ]["timeouts"]
    assert "min_items" not in timeouts
    assert "max_items" not in timeouts
    assert document["provider_schemas"][TOY]["resource_schemas"]["toy_widget"]["block"][
        "attributes"
    ]["size"] == {"description_kind": "plain", "optional": True, "type": "number"}


def test_committed_snapshots_round_trip_byte_for_byte() -> None:
    for path in sorted(SNAPSHOTS.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        metadata = json.loads(text)["tfprod"]["providers"]
        packages = {source: info["cdktn_package"] for source, info in metadata.items()}
        assert dump_schema_json(load_schema_json(path), packages=packages) == text, path.name


_primitives = st.sampled_from(list(ir.Primitive))
_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


def _extend(children: st.SearchStrategy[ir.TypeExpr]) -> st.SearchStrategy[ir.TypeExpr]:
    collections = st.builds(
        lambda kind, element: ir.Collection(kind=kind, element=element),
        st.sampled_from(list(ir.CollectionKind)),
        children,
    )
    objects = st.dictionaries(_names, children, max_size=3).flatmap(
        lambda attrs: st.sets(st.sampled_from(sorted(attrs)) if attrs else st.nothing()).map(
            lambda optional: ir.ObjectType(
                attributes=tuple(sorted(attrs.items())), optional=frozenset(optional)
            )
        )
    )
    tuples = st.lists(children, max_size=3).map(lambda e: ir.TupleType(elements=tuple(e)))
    return collections | objects | tuples


@given(st.recursive(_primitives, _extend, max_leaves=8))
def test_type_expressions_round_trip_through_json(expr: ir.TypeExpr) -> None:
    assert parse_type(json.loads(json.dumps(type_to_json(expr)))) == expr


def _malformed(edit: Any) -> str:
    document = json.loads(EVERY_TYPE.read_text())
    edit(document)
    return json.dumps(document)


def _widget_json(document: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = document["provider_schemas"][TOY]["resource_schemas"]["toy_widget"][
        "block"
    ]
    return block


_W = '$.provider_schemas["registry.terraform.io/example/toy"].resource_schemas.toy_widget.block'


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: _widget_json(d)["attributes"]["size"].update(type=42),
            f"{_W}.attributes.size.type: expected a type expression "
            '("string", "number", "bool", "dynamic", ["list"|"set"|"map", T], '
            '["object", {NAME: T, ...}] or ["tuple", [T, ...]]), got 42',
        ),
        (
            lambda d: _widget_json(d)["attributes"]["ports"].update(type=["list", "int"]),
            f"{_W}.attributes.ports.type[1]: expected a type expression "
            '("string", "number", "bool", "dynamic", ["list"|"set"|"map", T], '
            '["object", {NAME: T, ...}] or ["tuple", [T, ...]]), got "int"',
        ),
        (
            lambda d: _widget_json(d)["attributes"]["owner"].update(
                type=["object", {"email": "string"}, ["age"]]
            ),
            f"{_W}.attributes.owner.type[2]: expected a list of the object's attribute names, "
            'got ["age"]',
        ),
        (
            lambda d: _widget_json(d)["block_types"]["spec"].update(nesting_mode="tree"),
            f'{_W}.block_types.spec.nesting_mode: expected one of "single", "group", "list", '
            '"set", "map", got "tree"',
        ),
        (
            lambda d: _widget_json(d)["attributes"]["many"]["nested_type"].update(
                nesting_mode="group"
            ),
            f'{_W}.attributes.many.nested_type.nesting_mode: expected one of "single", "list", '
            '"set", "map", got "group"',
        ),
        (
            lambda d: _widget_json(d)["block_types"]["spec"].update(max_items=-1),
            f"{_W}.block_types.spec.max_items: expected a non-negative integer, got -1",
        ),
        (
            lambda d: _widget_json(d)["attributes"]["name"].update(optional=True),
            f"{_W}.attributes.name: expected required, or optional and/or computed, "
            "got required=true, optional=true, computed=false",
        ),
        (
            lambda d: _widget_json(d)["attributes"]["size"].update(computed="yes"),
            f'{_W}.attributes.size.computed: expected true or false, got "yes"',
        ),
        (
            lambda d: _widget_json(d)["attributes"]["size"].pop("type"),
            f"{_W}.attributes.size: expected exactly one of type and nested_type, got neither",
        ),
        (
            lambda d: _widget_json(d).update(atributes={}),
            f"{_W}.atributes: unknown key; allowed: attributes, block_types, deprecated, "
            "description, description_kind; did you mean attributes?",
        ),
        (
            lambda d: _widget_json(d)["attributes"]["name"].update(description_kind="html"),
            f'{_W}.attributes.name.description_kind: expected "plain" or "markdown", got "html"',
        ),
        (
            lambda d: d.update(format_version="2.0"),
            '$.format_version: expected "1.x", got "2.0"',
        ),
        (
            lambda d: d["provider_schemas"][TOY]["resource_schemas"].update(toy_gadget=[]),
            '$.provider_schemas["registry.terraform.io/example/toy"].resource_schemas.toy_gadget: '
            "expected an object, got []",
        ),
        (
            lambda d: d["tfprod"]["providers"][TOY].update(version=3),
            '$.tfprod.providers["registry.terraform.io/example/toy"].version: '
            "expected a string, got 3",
        ),
    ],
)
def test_rejects_malformed_field_naming_its_json_path(edit: Any, message: str) -> None:
    with pytest.raises(SchemaError) as error:
        load_schema_json(_malformed(edit))
    assert str(error.value) == message


def test_rejects_text_that_is_not_json() -> None:
    with pytest.raises(SchemaError) as error:
        load_schema_json("{format_version: 1}")
    assert str(error.value) == (
        "$: not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_select_keeps_only_the_named_types_and_the_provider_block() -> None:
    [kubernetes] = load_schema_json(SNAPSHOTS / "kubernetes.json")
    picked = select(
        kubernetes,
        resources=["kubernetes_service_v1", "kubernetes_namespace_v1"],
        data_sources=["kubernetes_namespace_v1"],
    )
    assert [name for name, _ in picked.resources] == [
        "kubernetes_namespace_v1",
        "kubernetes_service_v1",
    ]
    assert [name for name, _ in picked.data_sources] == ["kubernetes_namespace_v1"]
    assert (picked.source, picked.version, picked.provider) == (
        K8S,
        "3.4.0",
        kubernetes.provider,
    )


def test_select_rejects_unknown_resource_type_with_close_matches() -> None:
    [kubernetes] = load_schema_json(SNAPSHOTS / "kubernetes.json")
    with pytest.raises(SchemaError) as error:
        select(kubernetes, resources=["kubernetes_deploymnt_v1"])
    assert str(error.value) == (
        "unknown resource type 'kubernetes_deploymnt_v1' in kubernetes 3.4.0; "
        "did you mean kubernetes_deployment_v1?"
    )


def test_select_rejects_unknown_data_source_type_without_close_matches() -> None:
    with pytest.raises(SchemaError) as error:
        select(_toy(), data_sources=["aws_s3_bucket"])
    assert str(error.value) == "unknown data source type 'aws_s3_bucket' in toy 1.2.3"


def test_the_prebuilt_packages_provider_source_survives_the_round_trip_into_the_bindings() -> None:
    (schema,) = load_schema_json(SNAPSHOTS / "azurerm.json")
    assert (schema.source, schema.terraform_source) == (
        "registry.terraform.io/hashicorp/azurerm",
        "azurerm",
    )
    assert load_schema_json(dump_schema_json([schema])) == [schema]
