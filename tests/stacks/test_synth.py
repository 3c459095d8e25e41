"""All three cloud stacks through tfprod's App: schema-valid, deterministic, no credentials."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.stacks.conftest import add_deployment, service_account_annotations
from tests.stacks.test_aws import aws
from tests.stacks.test_azure import azure
from tests.stacks.test_gcp import gcp
from tfprod.cli._app import main
from tfprod.constructs import App

# Attributes that carry credentials: a stack must never pass them around (they would land in
# provider configuration and plans); the Kubernetes providers get short-lived tokens by exec.
CREDENTIAL_ATTRIBUTES = re.compile(
    r"access_key|connection_string|client_key|client_certificate|password|kube_admin_config"
    r"|kube_config_raw|access_token|\.token\b"
)
REFERENCE = re.compile(r"\$\{[^}]*\}")


def synth_all(outdir: Path) -> None:
    app = App(outdir=str(outdir))
    for stack in (aws(app), gcp(app), azure(app)):
        add_deployment(stack)
    app.synth()


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    synth_all(tmp_path / "cdktf.out")
    return tmp_path / "cdktf.out"


def test_every_cloud_stack_passes_tfprod_validate(
    outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(outdir)]) == 0
    assert capsys.readouterr().out == (
        f"{outdir}: 3 stacks (aws, azure, gcp) valid against aws 6.69.1, azurerm 5.10.0,"
        " google 8.7.0, kubernetes 3.4.0\n"
    )


def test_synthesizing_twice_gives_byte_identical_stacks(outdir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth_all(again)
    files = sorted(path.relative_to(outdir) for path in outdir.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(again) for path in again.rglob("*") if path.is_file())
    for name in files:
        assert (outdir / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_no_stack_references_a_credential_attribute(outdir: Path, cloud: str) -> None:
    text = (outdir / "stacks" / cloud / "cdk.tf.json").read_text()
    references = REFERENCE.findall(text)
    assert len(references) > 10
    assert [ref for ref in references if CREDENTIAL_ATTRIBUTES.search(ref)] == []


@pytest.mark.parametrize(
    ("cloud", "annotation"),
    [
        ("aws", "eks.amazonaws.com/role-arn"),
        ("gcp", "iam.gke.io/gcp-service-account"),
        ("azure", "azure.workload.identity/client-id"),
    ],
)
def test_gateway_and_controller_get_their_own_workload_identity(
    outdir: Path, cloud: str, annotation: str
) -> None:
    stack = json.loads((outdir / "stacks" / cloud / "cdk.tf.json").read_text())
    annotations = service_account_annotations(stack)
    assert sorted(annotations) == ["rec-model-server", "tfprod-controller", "tfprod-gateway"]
    assert [sorted(value) for value in annotations.values()] == [[annotation]] * 3
    assert len({value[annotation] for value in annotations.values()}) == 3
