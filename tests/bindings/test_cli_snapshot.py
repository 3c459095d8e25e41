"""`tfprod bindings snapshot`: from an installed prebuilt package to a schema JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfprod.bindings.generator.schema_json import load_schema_json
from tfprod.cli._app import main

K8S = "registry.terraform.io/hashicorp/kubernetes"


def test_snapshot_writes_only_the_named_types_with_provider_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snapshots" / "k8s.json"
    code = main(
        [
            "bindings",
            "snapshot",
            "--from-jsii",
            "cdktn-provider-kubernetes",
            "--resource",
            "kubernetes_namespace_v1",
            "kubernetes_config_map_v1",
            "--data-source",
            "kubernetes_namespace_v1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == (
        f"wrote {out}: kubernetes 3.4.0, 3 types (cdktn-provider-kubernetes==17.1.0)\n"
    )
    [schema] = load_schema_json(out)
    assert (schema.source, schema.version) == (K8S, "3.4.0")
    assert [name for name, _ in schema.resources] == [
        "kubernetes_config_map_v1",
        "kubernetes_namespace_v1",
    ]
    assert [name for name, _ in schema.data_sources] == ["kubernetes_namespace_v1"]
    assert json.loads(out.read_text())["tfprod"] == {
        "providers": {
            K8S: {
                "cdktn_package": "cdktn-provider-kubernetes==17.1.0",
                "terraform_source": "hashicorp/kubernetes",
                "version": "3.4.0",
            }
        }
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--from-jsii", "cdktn-provider-kubernetes", "--resource", "kubernetes_deploymnt_v1"],
            "unknown resource type 'kubernetes_deploymnt_v1' in kubernetes 3.4.0; "
            "did you mean kubernetes_deployment_v1?",
        ),
        (
            ["--from-jsii", "cdktn-provider-kubernetes"],
            "name at least one --resource or --data-source type",
        ),
        (
            ["--from-jsii", "cdktn-provider-nosuchcloud", "--resource", "x"],
            "package cdktn-provider-nosuchcloud is not installed "
            "(pip install cdktn-provider-nosuchcloud)",
        ),
    ],
)
def test_snapshot_rejects_bad_input_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    out = tmp_path / "out.json"
    code = main(["bindings", "snapshot", *arguments, "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err == f"tfprod bindings: error: {message}\n"
    assert not out.exists()
