"""`validate_stack` against a small hand-made provider schema: exact findings for each rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

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
)
from tfprod.bindings.generator.validate import (
    Finding,
    normalize_source,
    provider_sources,
    type_name,
    validate_stack,
)

STRING = Primitive.STRING
NUMBER = Primitive.NUMBER
BOOL = Primitive.BOOL


def _optional(name: str, type_: Any, **flags: bool) -> Attribute:
    return Attribute(name=name, type=type_, optional=True, **flags)


PORT = BlockType(
    name="port",
    nesting=Nesting.LIST,
    block=Block(attributes=(Attribute(name="container_port", type=NUMBER, required=True),)),
)
CONTAINER = BlockType(
    name="container",
    nesting=Nesting.LIST,
    min_items=1,
    block=Block(
        attributes=(
            _optional("image", STRING),
            Attribute(name="name", type=STRING, required=True),
        ),
        block_types=(PORT,),
    ),
)
DEPLOYMENT = Schema(
    block=Block(
        attributes=(
            _optional("anything", Primitive.DYNAMIC),
            _optional("id", STRING, computed=True),
            _optional("labels", Collection(kind=CollectionKind.MAP, element=STRING)),
            _optional("pair", TupleType(elements=(STRING, NUMBER))),
            _optional("ports", Collection(kind=CollectionKind.LIST, element=NUMBER)),
            _optional(
                "settings",
                ObjectType(
                    attributes=(("level", NUMBER), ("mode", STRING)), optional=frozenset({"level"})
                ),
            ),
            _optional("timeout_seconds", NUMBER),
            _optional("token", STRING, sensitive=True),
            Attribute(name="uid", type=STRING, computed=True),
            _optional("wait_for_rollout", BOOL),
        ),
        block_types=(
            BlockType(
                name="metadata",
                nesting=Nesting.LIST,
                min_items=1,
                max_items=1,
                block=Block(
                    attributes=(
                        Attribute(name="name", type=STRING, required=True),
                        _optional("namespace", STRING),
                    )
                ),
            ),
            BlockType(
                name="spec",
                nesting=Nesting.LIST,
                max_items=1,
                block=Block(attributes=(_optional("replicas", NUMBER),), block_types=(CONTAINER,)),
            ),
            BlockType(
                name="strategy",
                nesting=Nesting.SINGLE,
                block=Block(attributes=(_optional("type", STRING),)),
            ),
        ),
    )
)
HOST = Attribute(name="host", type=STRING, required=True)
SERVICE = Schema(
    block=Block(
        attributes=(
            Attribute(
                name="backend",
                optional=True,
                nested=NestedAttributes(nesting=Nesting.SINGLE, attributes=(HOST,)),
            ),
            Attribute(
                name="rules",
                optional=True,
                nested=NestedAttributes(nesting=Nesting.LIST, attributes=(HOST,), max_items=2),
            ),
            Attribute(
                name="routes",
                optional=True,
                nested=NestedAttributes(nesting=Nesting.MAP, attributes=(HOST,)),
            ),
        ),
        block_types=(
            BlockType(
                name="annotation",
                nesting=Nesting.MAP,
                block=Block(attributes=(Attribute(name="value", type=STRING, required=True),)),
            ),
        ),
    )
)
NAMESPACE = Schema(
    block=Block(
        attributes=(Attribute(name="name", type=STRING, required=True),),
    )
)
KUBE = ProviderSchema(
    source="registry.terraform.io/hashicorp/kube",
    version="1.2.0",
    provider=Schema(
        block=Block(
            attributes=(_optional("config_path", STRING), _optional("insecure", BOOL)),
            block_types=(
                BlockType(
                    name="exec",
                    nesting=Nesting.LIST,
                    max_items=1,
                    block=Block(
                        attributes=(Attribute(name="api_version", type=STRING, required=True),)
                    ),
                ),
            ),
        )
    ),
    resources=(("kube_deployment", DEPLOYMENT), ("kube_service", SERVICE)),
    data_sources=(("kube_namespace", NAMESPACE),),
)
SCHEMAS = [KUBE]


def _stack(**resources: dict[str, Any]) -> dict[str, Any]:
    """A stack in the shape cdktn writes, with one `kube_deployment.model-a` unless replaced."""
    stack: dict[str, Any] = {
        "//": {"metadata": {"stackName": "demo", "version": "0.24.0"}},
        "provider": {"kube": [{"config_path": "~/.kube/config"}]},
        "resource": {
            "kube_deployment": {
                "model-a": {
                    "//": {"metadata": {"path": "demo/model-a"}},
                    "metadata": {"name": "model-a"},
                    "spec": {
                        "replicas": 2,
                        "container": [
                            {"name": "server", "image": "tensorflow/serving", "port": []}
                        ],
                    },
                }
            }
        },
        "terraform": {"required_providers": {"kube": {"source": "hashicorp/kube"}}},
        # What the interpolations of these tests name (validate_stack checks references too).
        "variable": {name: {} for name in ("c", "models", "ports", "timeout")},
        "locals": {name: {} for name in ("backend", "main_route", "rule", "rules", "settings")},
    }
    stack["resource"].update(resources)
    return stack


def _deployment(**changes: Any) -> dict[str, Any]:
    stack = _stack()
    stack["resource"]["kube_deployment"]["model-a"].update(changes)
    return stack


def _messages(stack: dict[str, Any]) -> list[str]:
    return [str(finding) for finding in validate_stack(stack, SCHEMAS)]


def test_accepts_a_stack_that_matches_the_schema() -> None:
    assert validate_stack(_stack(), SCHEMAS) == []


def test_accepts_a_max_one_block_given_as_a_list_or_as_an_object() -> None:
    as_list = _deployment(metadata=[{"name": "model-a"}], strategy=[{"type": "Recreate"}])
    as_object = _deployment(metadata={"name": "model-a"}, strategy={"type": "Recreate"})

    assert validate_stack(as_list, SCHEMAS) == []
    assert validate_stack(as_object, SCHEMAS) == []


def test_finding_names_stack_address_path_and_message() -> None:
    stack = _stack()
    stack["resource"]["kube_deployment"]["model-a"]["spec"]["container"][0]["imagee"] = "x"

    assert validate_stack(stack, SCHEMAS) == [
        Finding(
            stack="demo",
            address="kube_deployment.model-a",
            path="spec[0].container[0].imagee",
            message="unknown attribute; did you mean image?",
        )
    ]


def test_stack_name_given_explicitly_overrides_the_metadata() -> None:
    stack = _deployment(imagee="x")

    findings = validate_stack(stack, SCHEMAS, stack="other")

    assert [finding.stack for finding in findings] == ["other"]


def test_reports_unknown_attribute_listing_allowed_names_when_nothing_is_close() -> None:
    stack = _stack()
    stack["resource"]["kube_deployment"]["model-a"]["metadata"]["zzz"] = "x"

    assert _messages(stack) == [
        "demo: kube_deployment.model-a: metadata[0].zzz: unknown attribute; "
        "allowed: name, namespace"
    ]


def test_reports_unknown_resource_type_with_close_match() -> None:
    stack = _stack(kube_deploymnt={"b": {}})

    assert _messages(stack) == [
        "demo: kube_deploymnt.b: unknown resource type 'kube_deploymnt' in kube 1.2.0; "
        "did you mean kube_deployment?"
    ]


def test_reports_unknown_data_source_type_with_close_match() -> None:
    stack = _stack()
    stack["data"] = {"kube_namespaces": {"ns": {"name": "models"}}}

    assert _messages(stack) == [
        "demo: data.kube_namespaces.ns: unknown data source type 'kube_namespaces' in "
        "kube 1.2.0; did you mean kube_namespace?"
    ]


def test_checks_data_sources_against_their_own_schema() -> None:
    stack = _stack()
    stack["data"] = {"kube_namespace": {"ns": {"depends_on": ["x"]}}}

    assert _messages(stack) == [
        "demo: data.kube_namespace.ns: name: missing required attribute",
    ]


def test_reports_resource_of_a_provider_without_snapshot_with_close_match() -> None:
    stack = _stack(kub_deployment={"b": {}})

    assert _messages(stack) == [
        "demo: kub_deployment.b: unknown resource type 'kub_deployment': no schema snapshot "
        "for provider registry.terraform.io/hashicorp/kub; did you mean kube_deployment?"
    ]


def test_reports_provider_without_source_in_required_providers_once() -> None:
    stack = _stack(kube_service={"svc": {}})
    del stack["terraform"]["required_providers"]["kube"]

    assert _messages(stack) == [
        "demo: terraform: required_providers.kube: no source for provider 'kube'; "
        'add "source" (e.g. "hashicorp/kube")'
    ]


def test_reports_provider_block_without_snapshot() -> None:
    stack = _stack()
    stack["provider"]["helm"] = [{"alias": "west"}]
    stack["terraform"]["required_providers"]["helm"] = {"source": "hashicorp/helm"}

    assert _messages(stack) == [
        "demo: provider.helm.west: no schema snapshot for provider "
        "registry.terraform.io/hashicorp/helm; snapshots: registry.terraform.io/hashicorp/kube"
    ]


def test_reports_misspelt_provider_with_close_match() -> None:
    stack = _stack()
    stack["provider"]["kub"] = [{}]
    stack["terraform"]["required_providers"]["kub"] = {"source": "hashicorp/kub"}

    assert _messages(stack) == [
        "demo: provider.kub: no schema snapshot for provider registry.terraform.io/hashicorp/kub; "
        "did you mean registry.terraform.io/hashicorp/kube?"
    ]


def test_checks_provider_blocks_and_ignores_alias() -> None:
    stack = _stack()
    stack["provider"]["kube"].append({"alias": "west", "insecure": "maybe", "exec": [{}]})

    assert _messages(stack) == [
        'demo: provider.kube.west: insecure: expected bool, got "maybe"',
        "demo: provider.kube.west: exec[0].api_version: missing required attribute",
    ]


def test_uses_the_provider_meta_argument_to_find_the_schema() -> None:
    stack = _deployment(provider="other.west")
    stack["terraform"]["required_providers"]["other"] = {"source": "hashicorp/kube"}

    assert _messages(stack) == []


def test_reports_missing_required_attribute_also_when_null() -> None:
    stack = _deployment(metadata={"name": None, "namespace": "models"})

    assert _messages(stack) == [
        "demo: kube_deployment.model-a: metadata[0].name: missing required attribute"
    ]


def test_reports_missing_required_block() -> None:
    stack = _stack()
    del stack["resource"]["kube_deployment"]["model-a"]["metadata"]
    stack["resource"]["kube_deployment"]["model-a"]["spec"]["container"] = []

    assert _messages(stack) == [
        "demo: kube_deployment.model-a: spec[0].container: missing required block: "
        "at least 1, got 0",
        "demo: kube_deployment.model-a: metadata: missing required block: at least 1, got 0",
    ]


def test_reports_too_many_blocks_for_max_items_and_single_nesting() -> None:
    stack = _deployment(
        metadata=[{"name": "a"}, {"name": "b"}], strategy=[{"type": "a"}, {"type": "b"}]
    )

    assert _messages(stack) == [
        "demo: kube_deployment.model-a: metadata: too many blocks: at most 1, got 2",
        "demo: kube_deployment.model-a: strategy: too many blocks: at most 1, got 2",
    ]


def test_reports_a_block_given_as_a_scalar() -> None:
    stack = _deployment(strategy="Recreate", metadata=[{"name": "a"}, "b"])

    assert _messages(stack) == [
        'demo: kube_deployment.model-a: metadata[1]: expected a block (an object), got "b"',
        "demo: kube_deployment.model-a: metadata: too many blocks: at most 1, got 2",
        "demo: kube_deployment.model-a: strategy: expected a block (an object or a list of "
        'objects), got "Recreate"',
    ]


def test_reports_computed_only_attribute_set_by_the_user() -> None:
    stack = _deployment(uid="1234", id="my-id")

    assert _messages(stack) == [
        "demo: kube_deployment.model-a: uid: computed by the provider; it cannot be set"
    ]


def test_ignores_meta_arguments_comments_and_dynamic_blocks() -> None:
    stack = _deployment(
        count=2,
        for_each="${var.models}",
        depends_on=["kube_service.svc"],
        lifecycle={"ignore_changes": ["spec"]},
        provisioner=[{"local-exec": {"command": "true"}}],
        connection={"host": "h"},
    )
    spec = stack["resource"]["kube_deployment"]["model-a"]["spec"]
    del spec["container"]
    spec["dynamic"] = {"container": {"for_each": "${var.c}", "content": {"whatever": 1}}}
    spec["//"] = "a comment"

    assert _messages(stack) == []


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("timeout_seconds", 30),
        ("timeout_seconds", 1.5),
        ("timeout_seconds", "30"),
        ("timeout_seconds", "-1.5e3"),
        ("timeout_seconds", ".5"),
        ("timeout_seconds", "Inf"),
        ("wait_for_rollout", True),
        ("wait_for_rollout", "true"),
        ("wait_for_rollout", "0"),
        ("image_tag_is_string", None),
        ("labels", {"app": 1, "enabled": True}),
        ("ports", [8500, "8501"]),
        ("ports", "${var.ports}"),
        ("settings", {"mode": "fast"}),
        ("settings", {"mode": "fast", "level": "2", "extra": [1]}),
        ("pair", ["a", 1]),
        ("anything", [{"x": 1}]),
        ("timeout_seconds", "${var.timeout}"),
        ("wait_for_rollout", "%{if var.x}true%{endif}"),
        ("settings", "${local.settings}"),
        ("token", 42),
    ],
)
def test_accepts_values_terraform_converts(attribute: str, value: Any) -> None:
    if value is None:  # a number and a bool become strings
        stack = _deployment(metadata={"name": 7, "namespace": False})
    else:
        stack = _deployment(**{attribute: value})

    assert _messages(stack) == []


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("timeout_seconds", "thirty", 'timeout_seconds: expected number, got "thirty"'),
        ("timeout_seconds", "0x10", 'timeout_seconds: expected number, got "0x10"'),
        ("timeout_seconds", " 1", 'timeout_seconds: expected number, got " 1"'),
        ("timeout_seconds", True, "timeout_seconds: expected number, got true"),
        ("wait_for_rollout", "yes", 'wait_for_rollout: expected bool, got "yes"'),
        ("wait_for_rollout", "True", 'wait_for_rollout: expected bool, got "True"'),
        ("wait_for_rollout", 1, "wait_for_rollout: expected bool, got 1"),
        ("labels", ["a"], 'labels: expected map(string), got ["a"]'),
        ("labels", {"app": {"x": 1}}, 'labels["app"]: expected string, got {"x": 1}'),
        ("ports", [8500, "http"], 'ports[1]: expected number, got "http"'),
        ("ports", "$${not.a.template}", 'ports: expected list(number), got "$${not.a.template}"'),
        (
            "settings",
            {"level": 1},
            "settings: expected object({level=number, mode=string}), missing attribute 'mode'",
        ),
        ("settings", {"mode": "a", "level": "high"}, 'settings.level: expected number, got "high"'),
        ("pair", ["a"], 'pair: expected tuple([string, number]), got ["a"]'),
        ("pair", ["a", "b"], 'pair[1]: expected number, got "b"'),
        ("token", ["s3cr3t"], "token: expected string, got (sensitive value)"),
        (
            "labels",
            ["0123456789012345678901234567890123456789"],
            'labels: expected map(string), got ["01234567890123456789012345678901234...',
        ),
    ],
)
def test_rejects_values_terraform_cannot_convert(attribute: str, value: Any, message: str) -> None:
    stack = _deployment(**{attribute: value})

    assert _messages(stack) == [f"demo: kube_deployment.model-a: {message}"]


def test_checks_nested_attributes_by_nesting_mode() -> None:
    service = {
        "svc": {
            "backend": {"host": 1, "port": 2},
            "rules": [{"host": "a"}, {"host": "b"}, {}],
            "routes": {"main": {"hots": "c"}},
        }
    }

    assert _messages(_stack(kube_service=service)) == [
        "demo: kube_service.svc: backend.port: unknown attribute; allowed: host",
        "demo: kube_service.svc: rules[2].host: missing required attribute",
        "demo: kube_service.svc: rules: too many items: at most 2, got 3",
        'demo: kube_service.svc: routes["main"].hots: unknown attribute; did you mean host?',
        'demo: kube_service.svc: routes["main"].host: missing required attribute',
    ]


def test_accepts_an_interpolation_for_a_whole_nested_attribute() -> None:
    service = {
        "svc": {
            "backend": "${local.backend}",
            "rules": "${local.rules}",
            "routes": {"main": "${local.main_route}"},
        }
    }
    listed = {"svc": {"rules": [{"host": "a"}, "${local.rule}"]}}

    assert _messages(_stack(kube_service=listed)) == []

    assert _messages(_stack(kube_service=service)) == []


def test_checks_map_nested_blocks_by_label() -> None:
    service = {"svc": {"annotation": {"team": {"value": "ml"}, "owner": [{"valu": "x"}]}}}

    assert _messages(_stack(kube_service=service)) == [
        'demo: kube_service.svc: annotation["owner"].valu: unknown attribute; did you mean value?',
        'demo: kube_service.svc: annotation["owner"].value: missing required attribute',
    ]


def test_is_pure_it_does_not_change_the_stack() -> None:
    stack = _deployment(uid="x", labels=["a"])
    before = copy.deepcopy(stack)

    validate_stack(stack, SCHEMAS)

    assert stack == before


@pytest.mark.parametrize(
    ("source", "normalized"),
    [
        ("hashicorp/aws", "registry.terraform.io/hashicorp/aws"),
        ("aws", "registry.terraform.io/hashicorp/aws"),
        ("Registry.Terraform.io/HashiCorp/AWS", "registry.terraform.io/hashicorp/aws"),
        ("example.com/acme/thing", "example.com/acme/thing"),
    ],
)
def test_normalizes_provider_sources_like_terraform(source: str, normalized: str) -> None:
    assert normalize_source(source) == normalized


def test_spells_type_constraints_like_terraform() -> None:
    nested = Collection(
        kind=CollectionKind.SET,
        element=ObjectType(attributes=(("a", Primitive.DYNAMIC),)),
    )

    assert type_name(nested) == "set(object({a=any}))"


def test_lists_declared_and_implied_provider_sources() -> None:
    stack = _stack(kub_deployment={"b": {}})
    stack["provider"]["helm"] = [{}]
    stack["data"] = {"kube_namespace": {"ns": {"provider": "other.west"}}}
    stack["terraform"]["required_providers"]["other"] = {"source": "acme/kube"}

    assert provider_sources(stack) == {
        "registry.terraform.io/acme/kube",
        "registry.terraform.io/hashicorp/helm",
        "registry.terraform.io/hashicorp/kub",
        "registry.terraform.io/hashicorp/kube",
    }
