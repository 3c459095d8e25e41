"""Values known only at apply time are reported as warnings under the rule's id, never passed."""

from __future__ import annotations

from pathlib import Path

from cdktn import Token

from tests.governance.stacks import DEPLOYMENT_PATH, build_stack, container, policies
from tfprod.bindings._core import Construct, TerraformStack
from tfprod.bindings.kubernetes.horizontal_pod_autoscaler_v2 import HorizontalPodAutoscalerV2
from tfprod.governance import Finding, Suppression, check_stack


def _messages(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.level, f.path, f.message) for f in findings]


def test_replicas_from_a_variable_is_a_warning_naming_the_field(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, replicas="${var.replicas}", min_replicas=None)
    assert _messages(check_stack(stack, policies())) == [
        (
            "TFP002",
            "warning",
            f"{DEPLOYMENT_PATH}/deployment",
            "spec[0].replicas is '${var.replicas}', known only at apply time, so TFP002"
            " (production keeps at least 2 replicas per version) cannot check it; write the"
            " value literally, or suppress TFP002 here saying why it holds",
        )
    ]


def test_hpa_minimum_from_an_expression_is_reported_on_the_autoscaler(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, min_replicas=Token.as_number("${local.floor}"))
    findings = check_stack(stack, policies())
    assert [(f.rule, f.level, f.path) for f in findings] == [
        ("TFP002", "warning", f"{DEPLOYMENT_PATH}/autoscaler")
    ]
    assert findings[0].message.startswith("spec[0].min_replicas is '${local.floor}', known only")


def test_autoscaler_aimed_at_an_unknown_target_is_a_warning(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        HorizontalPodAutoscalerV2(
            rec,
            "elsewhere",
            metadata={"name": "other", "namespace": "ml"},
            spec={
                "min_replicas": 1,
                "max_replicas": 3,
                "scale_target_ref": {"kind": "Deployment", "name": "${var.target}"},
            },
        )

    findings = check_stack(build_stack(tmp_path, extra=extra), policies())
    assert [(f.rule, f.level, f.path) for f in findings] == [
        ("TFP002", "warning", f"{DEPLOYMENT_PATH}/elsewhere")
    ]
    assert findings[0].message.startswith(
        "spec[0].scale_target_ref[0].name is '${var.target}', known only at apply time"
    )


def test_image_tag_from_a_variable_is_a_warning(tmp_path: Path) -> None:
    image = "tensorflow/serving:${var.serving_tag}"
    stack = build_stack(tmp_path, containers=[container(image=image)])
    findings = check_stack(stack, policies())
    assert [(f.rule, f.level, f.path) for f in findings] == [
        ("TFP005", "warning", f"{DEPLOYMENT_PATH}/deployment")
    ]
    assert findings[0].message.startswith(
        f"spec.template.spec.container[0].image is {image!r}, known only at apply time, so TFP005"
    )


def test_requests_from_an_expression_are_a_warning(tmp_path: Path) -> None:
    serving = {**container(), "resources": {"requests": Token.as_string_map("${var.requests}")}}
    stack = build_stack(tmp_path, containers=[serving])
    findings = check_stack(stack, policies())
    assert [(f.rule, f.level, f.path) for f in findings] == [
        ("TFP006", "warning", f"{DEPLOYMENT_PATH}/deployment")
    ]
    assert findings[0].message.startswith(
        "spec.template.spec.container[0].resources.requests is '${var.requests}', known only"
    )


def test_unresolved_value_is_waived_by_a_suppression_of_its_rule(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, replicas="${var.replicas}", min_replicas=None)
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP002", reason="the variable is >= 2")
    assert check_stack(stack, policies(), [waiver]) == []
