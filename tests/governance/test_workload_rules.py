"""TFP004-TFP006: secrets, images and resource requests in the synthesized JSON."""

from __future__ import annotations

from pathlib import Path

from cdktn import TerraformVariable

from tests.governance.stacks import DEPLOYMENT_PATH, Extra, build_stack, container, policies
from tfprod.bindings._core import Construct, TerraformStack
from tfprod.bindings.kubernetes.config_map_v1 import ConfigMapV1
from tfprod.bindings.kubernetes.manifest import Manifest
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.bindings.kubernetes.secret_v1 import SecretV1
from tfprod.governance import Finding, Suppression, check_stack

ADVICE = "store it in a Kubernetes Secret or a sensitive Terraform variable and reference it"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"


def _config_map(data: dict[str, str]) -> Extra:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        ConfigMapV1(rec, "settings", metadata={"name": "rec-settings"}, data=data)

    return extra


def _messages(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.path, f.message) for f in findings]


def test_slack_webhook_in_a_config_map_is_an_error_without_echoing_it(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, extra=_config_map({"notify": WEBHOOK}))
    findings = check_stack(stack, policies())
    assert _messages(findings) == [
        ("TFP004", "shop/rec/settings", f"data.notify holds a Slack webhook URL; {ADVICE}")
    ]
    assert WEBHOOK not in str(findings[0])


def test_routing_key_inside_an_embedded_document_is_an_error(tmp_path: Path) -> None:
    text = '{"pagerduty": {"key": "' + ROUTING_KEY + '"}}'
    stack = build_stack(tmp_path, extra=_config_map({"policy.json": text}))
    assert _messages(check_stack(stack, policies())) == [
        ("TFP004", "shop/rec/settings", f"data.policy.json holds a 32-hex routing key; {ADVICE}")
    ]


def test_url_with_password_is_an_error(tmp_path: Path) -> None:
    extra = _config_map({"smtp": "smtp://alerts:hunter2@mail.example.com:587"})
    stack = build_stack(tmp_path, extra=extra)
    assert _messages(check_stack(stack, policies())) == [
        ("TFP004", "shop/rec/settings", f"data.smtp holds a URL with a password; {ADVICE}")
    ]


def test_secret_named_field_with_literal_is_an_error(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, extra=_config_map({"api_token": "abc"}))
    assert _messages(check_stack(stack, policies())) == [
        ("TFP004", "shop/rec/settings", f"data.api_token holds a literal value; {ADVICE}")
    ]


def test_literal_kubernetes_secret_data_is_an_error(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        SecretV1(rec, "secret", metadata={"name": "alerts"}, data={"url": "anything"})

    stack = build_stack(tmp_path, extra=extra)
    assert _messages(check_stack(stack, policies())) == [
        ("TFP004", "shop/rec/secret", f"data.url holds a literal value; {ADVICE}")
    ]


def test_secret_from_sensitive_variable_passes(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        token = TerraformVariable(stack, "slack_token", type="string", sensitive=True)
        SecretV1(rec, "secret", metadata={"name": "alerts"}, data={"token": token.string_value})

    assert check_stack(build_stack(tmp_path, extra=extra), policies()) == []


def test_secret_from_plain_variable_is_an_error(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        token = TerraformVariable(stack, "slack_token", type="string")
        SecretV1(rec, "secret", metadata={"name": "alerts"}, data={"token": token.string_value})

    assert _messages(check_stack(build_stack(tmp_path, extra=extra), policies())) == [
        (
            "TFP004",
            "shop/rec/secret",
            f"data.token takes variable 'slack_token', which is not marked sensitive; {ADVICE}",
        )
    ]


def test_sensitive_variable_with_default_is_an_error(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del rec
        TerraformVariable(stack, "smtp_password", type="string", sensitive=True, default="pw")

    assert _messages(check_stack(build_stack(tmp_path, extra=extra), policies())) == [
        (
            "TFP004",
            "shop",
            "variable.smtp_password.default holds a literal value; give sensitive variables no"
            " default and set them at apply time (TF_VAR_...)",
        )
    ]


def test_secret_rule_suppressed_on_a_resource(tmp_path: Path) -> None:
    waiver = Suppression(path="shop/rec/settings", rule="TFP004", reason="a public test key")
    stack = build_stack(tmp_path, extra=_config_map({"api_token": "abc"}))
    assert check_stack(stack, policies(), [waiver]) == []


def test_latest_image_is_an_error(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, containers=[container(image="tensorflow/serving:latest")])
    assert _messages(check_stack(stack, policies())) == [
        (
            "TFP005",
            "shop/rec/deployment",
            "spec.template.spec.container[0].image 'tensorflow/serving:latest' uses the :latest"
            " tag; pin a version tag (e.g. 'tensorflow/serving:2.19.0') or a digest"
            " ('...@sha256:<digest>')",
        )
    ]


def test_untagged_image_behind_a_registry_port_is_an_error(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, containers=[container(image="localhost:5000/serving")])
    assert [f.message.split(";")[0] for f in check_stack(stack, policies())] == [
        "spec.template.spec.container[0].image 'localhost:5000/serving' has no tag, so it means"
        " :latest"
    ]


def test_digest_pinned_image_passes(tmp_path: Path) -> None:
    image = "tensorflow/serving@sha256:" + "a" * 64
    assert check_stack(build_stack(tmp_path, containers=[container(image=image)]), policies()) == []


def test_image_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP005", reason="dev sandbox image")
    stack = build_stack(tmp_path, containers=[container(image="busybox")])
    assert check_stack(stack, policies(), [waiver]) == []


def test_container_without_requests_is_an_error(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, containers=[container(name="pull", requests=None)])
    assert _messages(check_stack(stack, policies())) == [
        (
            "TFP006",
            "shop/rec/deployment",
            "container 'pull' (spec.template.spec.container[0]) requests no cpu and no memory;"
            " set resources.requests {'cpu': ..., 'memory': ...}",
        )
    ]


def test_container_requesting_only_cpu_is_an_error(tmp_path: Path) -> None:
    stack = build_stack(tmp_path, containers=[container(requests={"cpu": "1"})])
    assert [f.message for f in check_stack(stack, policies())] == [
        "container 'serving' (spec.template.spec.container[0]) requests no memory; set"
        " resources.requests {'cpu': ..., 'memory': ...}"
    ]


def test_requests_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP006", reason="best-effort batch pods")
    stack = build_stack(tmp_path, containers=[container(requests=None)])
    assert check_stack(stack, policies(), [waiver]) == []


def test_literal_provider_token_is_reported_on_the_stack(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del rec
        KubernetesProvider(stack, "cluster", alias="cluster", host="https://k8s", token="abc")

    assert _messages(check_stack(build_stack(tmp_path, extra=extra), policies())) == [
        ("TFP004", "shop", f"provider.kubernetes[1].token holds a literal value; {ADVICE}")
    ]


def test_camel_case_routing_key_in_a_manifest_is_an_error(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        Manifest(
            rec,
            "alertmanager",
            manifest={
                "apiVersion": "monitoring.coreos.com/v1alpha1",
                "kind": "AlertmanagerConfig",
                "metadata": {"name": "rec", "namespace": "ml"},
                "spec": {"receivers": [{"name": "pd", "pagerdutyConfigs": [{"routingKey": "k"}]}]},
            },
        )

    assert _messages(check_stack(build_stack(tmp_path, extra=extra), policies())) == [
        (
            "TFP004",
            "shop/rec/alertmanager",
            "manifest.spec.receivers[0].pagerdutyConfigs[0].routingKey holds a literal value;"
            f" {ADVICE}",
        )
    ]


def test_routing_key_as_a_secret_reference_passes(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        reference = {"name": "tfprod-alerts", "key": "pagerduty-routing-key"}
        Manifest(
            rec,
            "alertmanager",
            manifest={
                "apiVersion": "monitoring.coreos.com/v1alpha1",
                "kind": "AlertmanagerConfig",
                "metadata": {"name": "rec", "namespace": "ml"},
                "spec": {
                    "receivers": [{"name": "pd", "pagerdutyConfigs": [{"routingKey": reference}]}]
                },
            },
        )

    assert check_stack(build_stack(tmp_path, extra=extra), policies()) == []
