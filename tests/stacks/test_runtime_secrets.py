"""The admin token and the feedback-signing key: Secret references, mounted where the flags say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.stacks.conftest import add_deployment
from tfprod.constructs import App, ConstructError, ModelPlatformStack, RuntimeSecrets
from tfprod.policy import SecretRef
from tfprod.stacks import AwsModelPlatform, ClusterModelPlatform

FLAGS = ("--admin-token-file", "--feedback-key-file")


def synthesized(tmp_path: Path, build: Any) -> dict[str, Any]:
    app = App(outdir=str(tmp_path / "cdktf.out"))
    stack: ModelPlatformStack = build(app)
    add_deployment(stack)
    app.synth()
    path = tmp_path / "cdktf.out" / "stacks" / stack.node.id / "cdk.tf.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def cluster(app: App) -> ModelPlatformStack:
    return ClusterModelPlatform(app, "ml", registry_uri="s3://ml/registry", namespace="ml")


def aws(app: App) -> ModelPlatformStack:
    return AwsModelPlatform(
        app, "ml", region="eu-west-1", cluster_name="prod", registry_bucket="acme-models",
        namespace="ml",
    )  # fmt: skip


def mounted_secret_files(stack: dict[str, Any], workload: str) -> dict[str, tuple[str, str]]:
    """Per secret flag of `workload`'s container: the (Secret name, key) its file comes from,
    followed from the flag's path through the volume mount to the secret volume's item."""
    (deployment,) = [
        body
        for body in stack["resource"]["kubernetes_deployment_v1"].values()
        if body["metadata"]["name"] == workload
    ]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["container"]
    args = container["args"]
    volumes = {volume["name"]: volume for volume in pod["volume"]}
    found = {}
    for flag in FLAGS:
        if flag not in args:
            continue
        path = args[args.index(flag) + 1]
        (mount,) = [m for m in container["volume_mount"] if path.startswith(m["mount_path"] + "/")]
        assert mount["read_only"] is True
        secret = volumes[mount["name"]]["secret"]
        (item,) = [i for i in secret["items"] if f"{mount['mount_path']}/{i['path']}" == path]
        found[flag] = (secret["secret_name"], item["key"])
    return found


def declared_secrets(stack: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(Secret name, key) -> the value each declared Secret key takes."""
    return {
        (body["metadata"]["name"], key): value
        for body in stack["resource"].get("kubernetes_secret_v1", {}).values()
        for key, value in body["data"].items()
    }


@pytest.mark.parametrize("build", [cluster, aws], ids=["cluster", "aws"])
def test_flags_mounts_and_declared_secrets_agree(tmp_path: Path, build: Any) -> None:
    stack = synthesized(tmp_path, build)
    gateway = mounted_secret_files(stack, "tfprod-gateway")
    controller = mounted_secret_files(stack, "tfprod-controller")
    assert gateway == {
        "--admin-token-file": ("tfprod-admin-token", "token"),
        "--feedback-key-file": ("tfprod-feedback-key", "key"),
    }
    assert controller == {"--admin-token-file": ("tfprod-admin-token", "token")}
    assert declared_secrets(stack) == {
        ("tfprod-admin-token", "token"): "${var.tfprod_admin_token}",
        ("tfprod-feedback-key", "key"): "${var.tfprod_feedback_key}",
    }
    variables = stack["variable"]
    for name in ("tfprod_admin_token", "tfprod_feedback_key"):
        assert variables[name]["sensitive"] is True
        assert "default" not in variables[name]


def test_a_team_names_its_own_secrets_and_the_stack_declares_none(tmp_path: Path) -> None:
    def build(app: App) -> ModelPlatformStack:
        stack = cluster(app)
        RuntimeSecrets(
            stack,
            admin_token=SecretRef(name="team-gateway", key="admin"),
            feedback_key=SecretRef(name="team-feedback", key="hmac"),
        )
        return stack

    stack = synthesized(tmp_path, build)
    assert mounted_secret_files(stack, "tfprod-gateway") == {
        "--admin-token-file": ("team-gateway", "admin"),
        "--feedback-key-file": ("team-feedback", "hmac"),
    }
    assert mounted_secret_files(stack, "tfprod-controller") == {
        "--admin-token-file": ("team-gateway", "admin"),
    }
    assert declared_secrets(stack) == {}
    assert "variable" not in stack


def test_a_second_runtime_secrets_in_one_stack_is_refused(tmp_path: Path) -> None:
    stack = cluster(App(outdir=str(tmp_path)))
    RuntimeSecrets(stack)
    with pytest.raises(ConstructError) as error:
        RuntimeSecrets(stack, "more-secrets")
    assert str(error.value) == (
        "ml/more-secrets: scope: the stack already has RuntimeSecrets ml/runtime-secrets;"
        " allowed: one per stack"
    )
