"""The emitter: names as the cdktn generator gives them, deterministic clean output, and
working modules for a small hand-made schema covering every type and nesting mode."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import cdktn
import pytest

from tfprod.bindings.generator import ir
from tfprod.bindings.generator.emitter import EmitError, emit_package
from tfprod.bindings.generator.naming import pascal_case, python_name, struct_name

S = ir.Primitive.STRING
N = ir.Primitive.NUMBER


def _attr(
    name: str, type_: ir.TypeExpr = S, *, description: str = "", **flags: bool
) -> ir.Attribute:
    return ir.Attribute(name=name, type=type_, description=description, **flags)


def _block(*attributes: ir.Attribute, blocks: tuple[ir.BlockType, ...] = ()) -> ir.Block:
    return ir.Block(attributes=attributes, block_types=blocks)


THING = ir.Schema(
    block=_block(
        _attr("id", optional=True, computed=True),
        _attr("name", required=True, description='Caf\u00e9 name: quoted """x""" or C:\\tmp'),
        _attr("arn", computed=True, description="The ARN, known after apply."),
        _attr("enabled", ir.Primitive.BOOL, optional=True),
        _attr("ports", ir.Collection(kind=ir.CollectionKind.LIST, element=N), optional=True),
        _attr("tags", ir.Collection(kind=ir.CollectionKind.MAP, element=S), optional=True),
        _attr("from", optional=True),
        _attr("get_token", optional=True),
        _attr("self", optional=True),
        _attr("document", ir.Primitive.DYNAMIC, optional=True),
        _attr(
            "settings",
            ir.ObjectType(attributes=(("mode", S), ("size", N))),
            optional=True,
        ),
        ir.Attribute(
            name="targets",
            nested=ir.NestedAttributes(
                nesting=ir.Nesting.LIST,
                attributes=(_attr("host", required=True), _attr("weight", N, optional=True)),
            ),
            optional=True,
        ),
        blocks=(
            ir.BlockType(
                name="rule",
                nesting=ir.Nesting.LIST,
                min_items=1,
                block=_block(
                    _attr("action", required=True, description="allow or deny"),
                    _attr("priority", N, optional=True),
                ),
            ),
            ir.BlockType(
                name="limit",
                nesting=ir.Nesting.LIST,
                max_items=1,
                block=_block(_attr("max_count", N, optional=True)),
            ),
            ir.BlockType(
                name="timeouts",
                nesting=ir.Nesting.SINGLE,
                block=_block(_attr("create", optional=True)),
            ),
            ir.BlockType(
                name="entry_list",
                nesting=ir.Nesting.SET,
                block=_block(_attr("value", optional=True)),
            ),
        ),
    )
)

SCHEMA = ir.ProviderSchema(
    source="registry.terraform.io/acme/example",
    version="1.2.3",
    provider=ir.Schema(
        block=_block(
            # "Any" in a description must not import typing.Any (ruff would find it unused).
            _attr("region", optional=True, description="Any region; see https://example.com/r"),
            _attr("token", optional=True),
        )
    ),
    resources=(
        ("example_string", ir.Schema(block=_block(_attr("value", required=True)))),
        ("example_thing", THING),
    ),
    data_sources=(
        (
            "example_lookup",
            ir.Schema(block=_block(_attr("key", required=True), _attr("found", computed=True))),
        ),
    ),
)


@pytest.fixture(scope="module")
def emitted() -> dict[str, str]:
    return emit_package(SCHEMA, snapshot="tests/example.json").files


def _load(source: str, name: str, tmp_path: Path) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_follow_the_cdktn_provider_generator() -> None:
    assert pascal_case("deployment_v1_spec") == "DeploymentV1Spec"
    assert pascal_case("api_service_v1beta1") == "ApiServiceV1Beta1"
    assert struct_name(("example_thing", "entry_list")) == "ExampleThingEntryListStruct"
    assert [python_name(n) for n in ("from", "get_token", "self", "node", "x509_cert")] == [
        "from_",
        "fetch_token",
        "self_attribute",
        "node_attribute",
        "x509_cert",
    ]


def test_emits_one_module_per_type_with_the_generated_header(emitted: dict[str, str]) -> None:
    assert sorted(emitted) == [
        "__init__.py",
        "data_example_lookup.py",
        "provider.py",
        "string_resource.py",
        "thing.py",
    ]
    for text in emitted.values():
        assert text.startswith(
            "# generated by `tfprod bindings generate` from tests/example.json\n"
            "# (example 1.2.3); do not edit\n"
        )
    assert "class StringResource(Resource):" in emitted["string_resource.py"]
    assert "class DataExampleLookup(DataSource):" in emitted["data_example_lookup.py"]
    assert "class ExampleProvider(Provider):" in emitted["provider.py"]


def test_output_is_deterministic(emitted: dict[str, str]) -> None:
    assert emit_package(SCHEMA, snapshot="tests/example.json").files == emitted


def test_output_passes_ruff(emitted: dict[str, str], tmp_path: Path) -> None:
    for name, text in emitted.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = Path(__file__).resolve().parents[2] / "pyproject.toml"
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", f"--config={config}", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_the_construct_id_is_id_underscore_when_the_type_has_an_id_argument(
    emitted: dict[str, str],
) -> None:
    assert "        id_: str,\n" in emitted["thing.py"]
    assert "        id: str,\n" in emitted["string_resource.py"]


def test_generated_module_synthesizes_every_type_and_nesting_mode(
    emitted: dict[str, str], tmp_path: Path
) -> None:
    thing = _load(emitted["thing.py"], "thing", tmp_path)
    provider = _load(emitted["provider.py"], "provider", tmp_path)
    lookup = _load(emitted["data_example_lookup.py"], "lookup", tmp_path)
    app = cdktn.App(outdir=str(tmp_path / "out"))
    stack = cdktn.TerraformStack(app, "s")
    provider.ExampleProvider(stack, "p", region="eu-west-1")
    found = lookup.DataExampleLookup(stack, "l", key="k")
    made = thing.Thing(
        stack,
        "t",
        name=found.found,
        from_="x",
        fetch_token="t",
        self_attribute="me",
        enabled=False,
        ports=[80, 443],
        tags={"team": "ml"},
        document={"anything": [1, {"goes": True}]},
        settings={"mode": "fast", "size": 2},
        targets=[{"host": "a"}, thing.ThingTargets(host="b", weight=2)],
        rule=[{"action": "allow"}, thing.ThingRule(action="deny", priority=1)],
        limit={"maxCount": 3},
        timeouts=thing.ThingTimeouts(create="1m"),
        entry_list=[{"value": "v"}],
    )
    assert made.arn.startswith("${TfToken[")
    thing.Thing(stack, "u", name=made.arn, rule=[{"action": made.rule.get(1).action}])
    app.synth()
    document = json.loads((tmp_path / "out" / "stacks" / "s" / "cdk.tf.json").read_text())
    resources = document["resource"]["example_thing"]
    assert {k: v for k, v in resources["t"].items() if k != "//"} == {
        "name": "${data.example_lookup.l.found}",
        "from": "x",
        "get_token": "t",
        "self": "me",
        "enabled": False,
        "ports": [80, 443],
        "tags": {"team": "ml"},
        "document": {"anything": [1, {"goes": True}]},
        "settings": {"mode": "fast", "size": 2},
        "targets": [{"host": "a"}, {"host": "b", "weight": 2}],
        "rule": [{"action": "allow"}, {"action": "deny", "priority": 1}],
        "limit": {"max_count": 3},
        "timeouts": {"create": "1m"},
        "entry_list": [{"value": "v"}],
    }
    assert resources["u"]["name"] == "${example_thing.t.arn}"
    assert resources["u"]["rule"] == [{"action": "${example_thing.t.rule[1].action}"}]
    assert document["terraform"]["required_providers"]["example"] == {
        "source": "acme/example",
        "version": "1.2.3",
    }


def test_init_docstrings_document_each_described_keyword_argument(
    emitted: dict[str, str],
) -> None:
    assert (
        "    ) -> None:\n"
        '        """Adds the provider to `scope` as `id`; an argument left as None is left out.\n'
        "\n"
        "        :param region: Any region; see https://example.com/r\n"
        '        """\n'
        "        super().__init__("
    ) in emitted["provider.py"]
    assert (
        '        """An argument left as None is left out of the block.\n'
        "\n"
        "        :param action: allow or deny\n"
        '        """\n'
    ) in emitted["thing.py"]


def test_described_attributes_document_their_token_properties_and_nothing_else_does(
    emitted: dict[str, str], tmp_path: Path
) -> None:
    thing = _load(emitted["thing.py"], "thing", tmp_path).Thing
    assert thing.arn.__doc__ == "The ARN, known after apply."
    assert thing.name.__doc__ == 'Cafe name: quoted """x""" or C:\\tmp'
    assert thing.ports.__doc__ is None
    init = inspect.getdoc(thing.__init__)
    assert init is not None
    assert init.splitlines() == [
        "Adds the resource to `scope` as `id_`; an argument left as None is left out.",
        "",
        ':param name: Cafe name: quoted """x""" or C:\\tmp',
    ]
    undocumented = _load(emitted["string_resource.py"], "string_resource", tmp_path)
    assert undocumented.StringResource.__init__.__doc__ is None


def test_an_attribute_named_like_a_cdktn_member_is_refused() -> None:
    schema = ir.ProviderSchema(
        source="registry.terraform.io/acme/example",
        version="1.0.0",
        provider=ir.Schema(),
        resources=(("example_bad", ir.Schema(block=_block(_attr("count", N, optional=True)))),),
    )
    with pytest.raises(EmitError) as caught:
        emit_package(schema, snapshot="x.json")
    assert str(caught.value) == (
        "example_bad.count: the Python name 'count' collides with a member of cdktn's "
        "TerraformResource; rename it in the generator before emitting"
    )


def test_an_unknown_resource_type_is_refused_with_the_known_ones() -> None:
    with pytest.raises(EmitError) as caught:
        emit_package(SCHEMA, snapshot="x.json", resources=["example_thing_v2", "other"])
    assert str(caught.value) == (
        "unknown resource type 'example_thing_v2' in the example schema; "
        "did you mean 'example_thing'?"
    )
    with pytest.raises(EmitError) as caught:
        emit_package(SCHEMA, snapshot="x.json", data_sources=["zzz"])
    assert str(caught.value) == (
        "unknown data source 'zzz' in the example schema; it has: example_lookup"
    )
