"""The jsii front end, checked against the installed prebuilt provider packages themselves."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.bindings.oracle import require_prebuilt
from tests.services import skip_or_fail
from tfprod.bindings.generator import ir
from tfprod.bindings.generator.jsii_frontend import PrebuiltProvider, locate_package
from tfprod.bindings.generator.schema_json import SchemaError, dump_schema_json, load_schema_json

SNAPSHOTS = Path(__file__).parents[2] / "tfprod" / "bindings" / "snapshots"


@cache
def _provider(package: str) -> PrebuiltProvider:
    require_prebuilt(package)
    return PrebuiltProvider(locate_package(package))


@cache
def _kubernetes() -> ir.ProviderSchema:
    [schema] = load_schema_json(SNAPSHOTS / "kubernetes.json")
    return schema


def _resource(name: str) -> ir.Block:
    return dict(_kubernetes().resources)[name].block


def _child(block: ir.Block, *path: str) -> ir.BlockType:
    found = next(b for b in block.block_types if b.name == path[0])
    return _child(found.block, *path[1:]) if len(path) > 1 else found


def _attr(block: ir.Block, name: str) -> ir.Attribute:
    return next(a for a in block.attributes if a.name == name)


@pytest.mark.parametrize(
    "provider",
    [
        "kubernetes",
        # The other prebuilt packages are large (6-9 s each to read).
        pytest.param("aws", marks=pytest.mark.slow),
        pytest.param("google", marks=pytest.mark.slow),
        pytest.param("azurerm", marks=pytest.mark.slow),
    ],
)
def test_committed_snapshot_equals_a_fresh_one_from_the_installed_package(provider: str) -> None:
    path = SNAPSHOTS / f"{provider}.json"
    text = path.read_text(encoding="utf-8")
    [committed] = load_schema_json(path)
    [(source, info)] = json.loads(text)["tfprod"]["providers"].items()
    package, version = info["cdktn_package"].split("==")
    prebuilt = _provider(package)
    if prebuilt.package.version != version:
        skip_or_fail(f"{package} {prebuilt.package.version} is installed, snapshot is of {version}")
    fresh = prebuilt.schema(
        resources=[name for name, _ in committed.resources],
        data_sources=[name for name, _ in committed.data_sources],
    )
    assert dump_schema_json([fresh], packages={source: info["cdktn_package"]}) == text


_JS_FUNCTION = re.compile(r"^function (\w+)ToTerraform\(struct\) \{\n(.*?)^\}", re.M | re.S)
_JS_SYNTH = re.compile(r"^    synthesizeAttributes\(\) \{\n(.*?)^    \}", re.M | re.S)
_JS_FIELD = re.compile(r"^ +(\w+): (.+),$", re.M)
_JS_CHILD = re.compile(r"(?<!cdktn\.)\b([a-z]\w*?)ToTerraform\b")


@cache
def _javascript(package: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Every `fooToTerraform` function body of a prebuilt package, and the
    `synthesizeAttributes` body of each (base class, Terraform type)."""
    functions, synth = {}, {}
    with tarfile.open(_provider(package).package.tarball) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.name.endswith(".js") else None
            if handle is None or "/lib/" not in member.name:
                continue
            source = handle.read().decode("utf-8")
            functions.update({m[1]: m[2] for m in _JS_FUNCTION.finditer(source)})
            base = re.search(r"^class \w+ extends cdktn\.(Terraform\w+) \{", source, re.M)
            resource_type = re.search(r'static tfResourceType = "(\w+)";', source)
            body = _JS_SYNTH.search(source)
            if base and resource_type and body:
                synth[base[1], resource_type[1]] = body[1]
    return functions, synth


def _serialized_shapes(
    functions: dict[str, str], block: ir.Block, body: str, path: str
) -> Iterator[tuple[str, str, str]]:
    """(path, what the IR says, what the prebuilt JS serializer does) for every block type."""
    fields = dict(_JS_FIELD.findall(body))
    fields.pop("alias", None)  # a cdktn meta-argument of providers, not in the schema
    configurable = {a.name for a in block.attributes if a.required or a.optional}
    assert set(fields) == configurable | {b.name for b in block.block_types}, path
    for block_type in block.block_types:
        expression = fields[block_type.name]
        single = block_type.nesting is ir.Nesting.SINGLE or block_type.max_items == 1
        js = "list" if expression.startswith("cdktn.listMapper(") else "one object"
        yield f"{path}.{block_type.name}", "one object" if single else "list", js
        child = _JS_CHILD.search(expression)
        assert child is not None, expression
        yield from _serialized_shapes(
            functions, block_type.block, functions[child[1]], f"{path}.{block_type.name}"
        )


@pytest.mark.parametrize(
    ("provider", "blocks"),
    [
        ("kubernetes", 287),
        pytest.param("aws", 39, marks=pytest.mark.slow),
        pytest.param("google", 26, marks=pytest.mark.slow),
        pytest.param("azurerm", 47, marks=pytest.mark.slow),
    ],
)
def test_block_shapes_match_how_the_prebuilt_javascript_serializes_them(
    provider: str, blocks: int
) -> None:
    text = (SNAPSHOTS / f"{provider}.json").read_text(encoding="utf-8")
    [schema] = load_schema_json(text)
    [info] = json.loads(text)["tfprod"]["providers"].values()
    functions, synth = _javascript(info["cdktn_package"].split("==")[0])
    tops = [("TerraformProvider", schema.name, schema.provider)]
    tops += [("TerraformResource", name, s) for name, s in schema.resources]
    tops += [("TerraformDataSource", name, s) for name, s in schema.data_sources]
    checked = []
    for base, name, top in tops:
        body = synth[base, name]
        for path, ours, theirs in _serialized_shapes(functions, top.block, body, name):
            assert (path, ours) == (path, theirs)
            checked.append(path)
    assert len(checked) == blocks


_JS_MAPPERS = {
    ir.Primitive.STRING: "cdktn.stringToTerraform",
    ir.Primitive.NUMBER: "cdktn.numberToTerraform",
    ir.Primitive.BOOL: "cdktn.booleanToTerraform",
    ir.Primitive.DYNAMIC: "cdktn.anyToTerraform",
}


def _js_mapper(expr: ir.TypeExpr | None) -> str:
    """The cdktn serializer the generator writes for an attribute of this type."""
    if isinstance(expr, ir.Primitive):
        return _JS_MAPPERS[expr]
    assert isinstance(expr, ir.Collection), expr
    if expr.kind is ir.CollectionKind.MAP:
        return f"cdktn.hashMapper({_js_mapper(expr.element)})"
    return f"cdktn.listMapper({_js_mapper(expr.element)}, false)"


def _attribute_serializers(
    functions: dict[str, str], block: ir.Block, body: str, path: str
) -> Iterator[tuple[str, str, str]]:
    """(path, serializer implied by the IR, serializer in the prebuilt JS) per attribute."""
    fields = dict(_JS_FIELD.findall(body))
    for attr in block.attributes:
        if attr.required or attr.optional:
            ours = _js_mapper(attr.type)
            if attr.write_only:
                ours = f"this.markWriteOnlyAttribute({ours}"
            theirs = re.split(r"\((?:struct\.|this\._)", fields[attr.name])[0]
            yield f"{path}.{attr.name}", ours, theirs
    for block_type in block.block_types:
        child = _JS_CHILD.search(fields[block_type.name])
        assert child is not None
        yield from _attribute_serializers(
            functions, block_type.block, functions[child[1]], f"{path}.{block_type.name}"
        )


@pytest.mark.parametrize(
    ("provider", "attributes"),
    [
        ("kubernetes", 768),
        pytest.param("aws", 521, marks=pytest.mark.slow),
        pytest.param("google", 299, marks=pytest.mark.slow),
        pytest.param("azurerm", 212, marks=pytest.mark.slow),
    ],
)
def test_attribute_types_match_the_prebuilt_javascript_serializers(
    provider: str, attributes: int
) -> None:
    text = (SNAPSHOTS / f"{provider}.json").read_text(encoding="utf-8")
    [schema] = load_schema_json(text)
    [info] = json.loads(text)["tfprod"]["providers"].values()
    functions, synth = _javascript(info["cdktn_package"].split("==")[0])
    tops = [("TerraformProvider", schema.name, schema.provider)]
    tops += [("TerraformResource", name, s) for name, s in schema.resources]
    tops += [("TerraformDataSource", name, s) for name, s in schema.data_sources]
    checked = []
    for base, name, top in tops:
        for path, ours, theirs in _attribute_serializers(
            functions, top.block, synth[base, name], name
        ):
            assert (path, ours) == (path, theirs)
            checked.append(path)
    assert len(checked) == attributes
    if provider == "kubernetes":
        assert "kubernetes_secret_v1.data_wo" in checked


def test_reads_required_single_object_blocks_as_list_with_one_item() -> None:
    deployment = _resource("kubernetes_deployment_v1")
    spec = _child(deployment, "spec")
    assert (spec.nesting, spec.min_items, spec.max_items) == (ir.Nesting.LIST, 1, 1)
    container = _child(deployment, "spec", "template", "spec", "container")
    assert (container.nesting, container.min_items, container.max_items) == (
        ir.Nesting.LIST,
        0,
        None,
    )
    assert _child(deployment, "timeouts").nesting is ir.Nesting.SINGLE


def test_reads_set_attributes_and_set_blocks() -> None:
    deployment = _resource("kubernetes_deployment_v1")
    expressions = _child(deployment, "spec", "selector", "match_expressions").block
    assert _attr(expressions, "values").type == ir.Collection(
        kind=ir.CollectionKind.SET, element=ir.Primitive.STRING
    )
    role = _resource("kubernetes_role_v1")
    assert _child(role, "rule").nesting is ir.Nesting.LIST
    assert _attr(_child(role, "rule").block, "verbs").type == ir.Collection(
        kind=ir.CollectionKind.SET, element=ir.Primitive.STRING
    )


def test_reads_computed_only_attributes_from_getters() -> None:
    metadata = _child(_resource("kubernetes_namespace_v1"), "metadata").block
    assert _attr(metadata, "uid") == ir.Attribute(
        name="uid", type=ir.Primitive.STRING, computed=True
    )
    assert _attr(metadata, "name") == ir.Attribute(
        name="name",
        type=ir.Primitive.STRING,
        optional=True,
        computed=True,
        description="Name of the namespace, must be unique. Cannot be updated. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names.",
    )
    status = _attr(_resource("kubernetes_service_v1"), "status")
    ingress = ir.ObjectType(
        attributes=(
            ("hostname", ir.Primitive.STRING),
            ("ip", ir.Primitive.STRING),
            ("ip_mode", ir.Primitive.STRING),
        )
    )

    def list_of(element: ir.TypeExpr) -> ir.Collection:
        return ir.Collection(kind=ir.CollectionKind.LIST, element=element)

    load_balancer = ir.ObjectType(attributes=(("ingress", list_of(ingress)),))
    assert status == ir.Attribute(
        name="status",
        type=list_of(ir.ObjectType(attributes=(("load_balancer", list_of(load_balancer)),))),
        computed=True,
    )


def test_reads_provider_configuration_without_the_cdktn_alias() -> None:
    provider = _kubernetes().provider.block
    names = [a.name for a in provider.attributes]
    assert "alias" not in names
    assert "config_path" in names
    exec_block = _child(provider, "exec")
    assert (exec_block.nesting, exec_block.max_items) == (ir.Nesting.LIST, None)
    assert _attr(exec_block.block, "api_version") == ir.Attribute(
        name="api_version", type=ir.Primitive.STRING, required=True
    )
    assert (_kubernetes().source, _kubernetes().version) == (
        "registry.terraform.io/hashicorp/kubernetes",
        "3.4.0",
    )


def test_reads_dynamic_manifest_as_map_of_dynamic() -> None:
    manifest = _attr(_resource("kubernetes_manifest"), "manifest")
    assert (manifest.type, manifest.required) == (
        ir.Collection(kind=ir.CollectionKind.MAP, element=ir.Primitive.DYNAMIC),
        True,
    )


def test_rejects_unknown_resource_type_with_close_matches() -> None:
    with pytest.raises(SchemaError) as error:
        _provider("cdktn-provider-kubernetes").schema(resources=["kubernetes_deploymnt_v1"])
    assert str(error.value) == (
        "unknown resource type 'kubernetes_deploymnt_v1' in kubernetes 3.4.0; "
        "did you mean kubernetes_deployment_v1?"
    )


def test_rejects_unknown_data_source_type() -> None:
    with pytest.raises(SchemaError) as error:
        _provider("cdktn-provider-kubernetes").schema(data_sources=["kubernetes_namespace_v2"])
    assert str(error.value) == (
        "unknown data source type 'kubernetes_namespace_v2' in kubernetes 3.4.0; "
        "did you mean kubernetes_namespace_v1?"
    )


def test_rejects_packages_that_are_not_prebuilt_providers_or_not_installed() -> None:
    with pytest.raises(SchemaError) as error:
        locate_package("pydantic")
    assert str(error.value) == (
        "package 'pydantic' is not a prebuilt CDK Terrain provider (cdktn-provider-NAME)"
    )
    with pytest.raises(SchemaError) as error:
        locate_package("cdktn_provider_nosuchcloud")
    assert str(error.value) == (
        "package cdktn-provider-nosuchcloud is not installed "
        "(pip install cdktn-provider-nosuchcloud)"
    )
