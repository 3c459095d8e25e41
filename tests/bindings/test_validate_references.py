"""`validate_stack`'s reference checks: what `${...}` templates name must be declared, as
`terraform validate` requires (the four errors `tofu validate` caught and `tfprod validate`
did not, docs/terraform.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bindings.test_validate import SCHEMAS, _stack
from tfprod.bindings.generator.references import template_expressions
from tfprod.bindings.generator.validate import validate_stack


def _with_image(image: str, **sections: dict[str, Any]) -> dict[str, Any]:
    stack = _stack()
    stack["resource"]["kube_deployment"]["model-a"]["spec"]["container"][0]["image"] = image
    stack.update(sections)
    return stack


def _messages(stack: dict[str, Any]) -> list[str]:
    return [str(finding) for finding in validate_stack(stack, SCHEMAS)]


IMAGE = "kube_deployment.model-a: spec.container[0].image"  # where it is in the JSON


def test_references_to_what_the_stack_declares_pass() -> None:
    stack = _with_image(
        '${var.registry}/${local.name}:${lookup(data.kube_namespace.ml.labels, "x", "")}'
        '-${kube_deployment.model-a.metadata[0].name}-${join("-", [for v in var.tags: v])}',
        variable={"registry": {"type": "string"}, "tags": {"type": "list(string)"}},
        locals={"name": "server"},
        data={"kube_namespace": {"ml": {"name": "ml"}}},
    )

    assert _messages(stack) == []


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "${var.missing}",
            f"demo: {IMAGE}: reference to an undeclared input variable var.missing",
        ),
        (
            "${local.missing}",
            f"demo: {IMAGE}: reference to an undeclared local value local.missing",
        ),
        (
            "${data.kube_namespace.missing.id}",
            f"demo: {IMAGE}: reference to an undeclared data source data.kube_namespace.missing",
        ),
        (
            "${kube_service.missing.metadata[0].name}",
            f"demo: {IMAGE}: reference to an undeclared resource kube_service.missing",
        ),
        (
            "${kube_deployment.model-a.no_such_attribute}",
            f"demo: {IMAGE}: kube_deployment.model-a has no attribute or block 'no_such_attribute'",
        ),
        (
            "${var.}",
            f"demo: {IMAGE}: an attribute name is required after a dot in ${{var.}}",
        ),
        ("x-${var.registry", f"demo: {IMAGE}: unterminated template ${{x-${{var.registry"),
        (
            '${upper("${var.missing}")}',
            f"demo: {IMAGE}: reference to an undeclared input variable var.missing",
        ),
    ],
)
def test_a_reference_to_nothing_declared_is_a_finding(image: str, message: str) -> None:
    stack = _with_image(image, variable={"registry": {"type": "string"}})

    assert _messages(stack) == [message]


def test_an_escaped_template_and_the_metadata_are_not_read() -> None:
    stack = _with_image("$${var.missing}")
    stack["resource"]["kube_deployment"]["model-a"]["//"]["note"] = "${var.missing}"

    assert _messages(stack) == []


def test_template_expressions_yields_outer_then_nested_expressions() -> None:
    assert list(template_expressions('a ${f("${var.x}", {k = "v"})} b ${local.y}')) == [
        'f("${var.x}", {k = "v"})',
        "var.x",
        "local.y",
    ]
