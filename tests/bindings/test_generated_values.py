"""Generated bindings check values at construction and name the attribute path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cdktn
import jsii._kernel as jsii_kernel
import pytest

from tfprod.bindings._elements import _wire
from tfprod.bindings._values import BindingValueError
from tfprod.bindings.kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1SpecTemplateSpecContainer,
)
from tfprod.bindings.kubernetes.namespace_v1 import NamespaceV1
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.bindings.kubernetes.secret_v1 import SecretV1
from tfprod.bindings.kubernetes.service_v1 import ServiceV1


@pytest.fixture
def stack(tmp_path: Path) -> cdktn.TerraformStack:
    return cdktn.TerraformStack(cdktn.App(outdir=str(tmp_path)), "s")


def _spec(container: dict[str, Any]) -> dict[str, Any]:
    return {
        "selector": {"match_labels": {"app": "m"}},
        "template": {"metadata": {}, "spec": {"container": [container]}},
    }


def _error(action: Any) -> str:
    with pytest.raises(BindingValueError) as caught:
        action()
    return str(caught.value)


def test_wrong_type_deep_in_a_block_names_the_full_path(stack: cdktn.TerraformStack) -> None:
    container = {"name": "m", "image": "i", "port": [{"container_port": "http"}]}
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec=_spec(container)))
    assert message == (
        "DeploymentV1.spec.template.spec.container[0].port[0].container_port: "
        "expected number, got 'http'"
    )


def test_missing_required_attribute_names_its_path(stack: cdktn.TerraformStack) -> None:
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec={"selector": {}}))
    assert message == "DeploymentV1.spec.template: missing required attribute"


def test_missing_required_attribute_inside_a_list_item(stack: cdktn.TerraformStack) -> None:
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec=_spec({"image": "i"})))
    assert (
        message == "DeploymentV1.spec.template.spec.container[0].name: missing required attribute"
    )


def test_unknown_attribute_suggests_the_closest_name(stack: cdktn.TerraformStack) -> None:
    spec = {**_spec({"name": "m"}), "replica": "2"}
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec=spec))
    assert message == "DeploymentV1.spec: unknown attribute 'replica'; did you mean 'replicas'?"


def test_unknown_attribute_without_a_close_match_lists_the_allowed_ones(
    stack: cdktn.TerraformStack,
) -> None:
    message = _error(lambda: NamespaceV1(stack, "n", metadata=[{"owner": "ml"}]))
    assert message == (
        "NamespaceV1.metadata[0]: unknown attribute 'owner'; "
        "expected one of: annotations, generate_name, labels, name"
    )


def test_computed_attributes_cannot_be_set(stack: cdktn.TerraformStack) -> None:
    message = _error(lambda: NamespaceV1(stack, "n", metadata=[{"uid": "1234"}]))
    assert message == "NamespaceV1.metadata[0].uid: is computed by the provider and cannot be set"


def test_a_struct_of_another_type_is_rejected_with_the_expected_one(
    stack: cdktn.TerraformStack,
) -> None:
    wrong = DeploymentV1Metadata(name="x")
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec=_spec(wrong)))  # type: ignore[arg-type]
    assert message == (
        "DeploymentV1.spec.template.spec.container[0]: expected "
        "DeploymentV1SpecTemplateSpecContainer or a dict, got DeploymentV1Metadata(name='x')"
    )


def test_a_single_value_where_a_list_is_expected_is_rejected(stack: cdktn.TerraformStack) -> None:
    spec = _spec({"name": "m"})
    spec["template"]["spec"]["container"] = {"name": "m"}
    message = _error(lambda: DeploymentV1(stack, "d", metadata={}, spec=spec))
    assert message == (
        "DeploymentV1.spec.template.spec.container: expected list of "
        "DeploymentV1SpecTemplateSpecContainer or dict items, got {'name': 'm'}"
    )


def test_map_values_are_checked_by_key(stack: cdktn.TerraformStack) -> None:
    message = _error(lambda: NamespaceV1(stack, "n", metadata=[{"labels": {"team": 7}}]))
    assert message == 'NamespaceV1.metadata[0].labels["team"]: expected string, got 7'


def test_values_under_secret_looking_paths_are_never_shown(stack: cdktn.TerraformStack) -> None:
    message = _error(
        lambda: SecretV1(stack, "s", metadata={}, data={"password": ["hunter2-literal"]})
    )
    assert message == (
        'SecretV1.data["password"]: expected string, got a list (value not shown: it may be secret)'
    )
    assert "hunter2" not in message


def test_provider_arguments_are_checked_too(stack: cdktn.TerraformStack) -> None:
    message = _error(lambda: KubernetesProvider(stack, "k", insecure="yes"))  # type: ignore[arg-type]
    assert message == "KubernetesProvider.insecure: expected bool, got 'yes'"


def test_a_failed_check_adds_nothing_to_the_stack(stack: cdktn.TerraformStack) -> None:
    _error(lambda: NamespaceV1(stack, "n", metadata=[{"owner": "ml"}]))
    NamespaceV1(stack, "n", metadata=[{"name": "ok"}])
    assert [c.node.id for c in stack.node.children] == ["n"]


def test_unresolved_tokens_pass_where_another_type_is_expected(
    stack: cdktn.TerraformStack, tmp_path: Path
) -> None:
    replicas = cdktn.TerraformVariable(stack, "replicas", type="number")
    secure = cdktn.TerraformVariable(stack, "secure", type="bool")
    KubernetesProvider(stack, "k", insecure=secure.boolean_value)
    container = DeploymentV1SpecTemplateSpecContainer(
        name="m", port=[{"containerPort": replicas.number_value}]
    )
    DeploymentV1(
        stack,
        "d",
        metadata={"labels": cdktn.Fn.merge([{"a": "b"}, {"c": "d"}])},
        spec={**_spec({}), "template": {"metadata": {}, "spec": {"container": [container]}}},
    )
    ServiceV1(stack, "svc", metadata={}, spec={"port": [{"port": replicas.number_value}]})
    stack.node.scope.synth()  # type: ignore[union-attr]
    document = json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())
    deployment = document["resource"]["kubernetes_deployment_v1"]["d"]
    port = deployment["spec"]["template"]["spec"]["container"][0]["port"][0]
    assert port == {"container_port": "${var.replicas}"}
    assert deployment["metadata"]["labels"] == '${merge({"a" = "b"}, {"c" = "d"})}'
    assert document["provider"]["kubernetes"] == [{"insecure": "${var.secure}"}]


def test_struct_instances_read_back_their_values() -> None:
    container = DeploymentV1SpecTemplateSpecContainer(name="m", image="i")
    assert (container.name, container.image, container.args) == ("m", "i", None)
    assert container == DeploymentV1SpecTemplateSpecContainer(name="m", image="i")
    assert repr(container) == "DeploymentV1SpecTemplateSpecContainer(image='i', name='m')"


def test_cdktn_escape_hatches_and_meta_arguments_work_on_generated_resources(
    stack: cdktn.TerraformStack, tmp_path: Path
) -> None:
    prod = KubernetesProvider(stack, "prod", alias="prod")
    namespace = NamespaceV1(
        stack,
        "n",
        metadata=[{"name": "models"}],
        provider=prod,
        count=2,
        lifecycle={"create_before_destroy": True},
    )
    namespace.add_override("metadata.0.labels", {"team": "ml"})
    stack.node.scope.synth()  # type: ignore[union-attr]
    document = json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())
    resource = document["resource"]["kubernetes_namespace_v1"]["n"]
    assert {k: v for k, v in resource.items() if k != "//"} == {
        "count": 2,
        "lifecycle": {"create_before_destroy": True},
        "metadata": [{"labels": {"team": "ml"}, "name": "models"}],
        "provider": "kubernetes.prod",
    }
    assert document["provider"]["kubernetes"] == [{"alias": "prod"}]


def test_an_alias_set_after_creation_is_emitted_and_named_by_resources(
    stack: cdktn.TerraformStack, tmp_path: Path
) -> None:
    west = KubernetesProvider(stack, "west", alias=None)
    west.alias = "west"
    NamespaceV1(stack, "n", metadata=[{"name": "models"}], provider=west)
    stack.node.scope.synth()  # type: ignore[union-attr]
    document = json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())
    assert west.alias == "west"
    assert document["provider"]["kubernetes"] == [{"alias": "west"}]
    assert document["resource"]["kubernetes_namespace_v1"]["n"]["provider"] == "kubernetes.west"


def test_synthesis_calls_no_python_code_back(
    stack: cdktn.TerraformStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each callback is a round trip to the jsii kernel: attributes and aliases are
    # handed over at creation instead (tfprod.bindings._elements).
    callbacks: list[str] = []
    handle = jsii_kernel._handle_callback

    def counted(kernel: Any, callback: Any) -> Any:
        callbacks.append(callback.cookie)
        return handle(kernel, callback)

    monkeypatch.setattr(jsii_kernel, "_handle_callback", counted)
    provider = KubernetesProvider(stack, "k", alias="prod")
    NamespaceV1(stack, "n", metadata=[{"name": "models"}], provider=provider)
    stack.node.scope.synth()  # type: ignore[union-attr]
    assert callbacks == []


def test_generate_config_for_import_writes_an_import_block(
    stack: cdktn.TerraformStack, tmp_path: Path
) -> None:
    assert NamespaceV1.TF_RESOURCE_TYPE == "kubernetes_namespace_v1"
    NamespaceV1.generate_config_for_import(stack, "existing", "models")
    stack.node.scope.synth()  # type: ignore[union-attr]
    document = json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())
    assert document["import"] == [{"id": "models", "to": "kubernetes_namespace_v1.existing"}]


def test_plain_attributes_travel_as_json_text_and_others_as_a_map(
    stack: cdktn.TerraformStack,
) -> None:
    plain = {"metadata": [{"name": "${var.n}", "labels": {"é": "b"}}], "replicas": 2.5}
    assert (
        _wire(plain) == '{"metadata":[{"name":"${var.n}","labels":{"\\u00e9":"b"}}],"replicas":2.5}'
    )
    merged = cdktn.Fn.merge([{"a": "b"}])  # a token string
    wired = _wire({"labels": merged})
    assert isinstance(wired, str)
    assert json.loads(wired) == {"labels": merged}
    token_object = {"insecure": cdktn.TerraformVariable(stack, "v", type="bool").boolean_value}
    assert _wire(token_object) is token_object
    not_a_number = {"weight": float("nan")}
    assert _wire(not_a_number) is not_a_number
