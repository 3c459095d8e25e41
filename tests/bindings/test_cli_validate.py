"""`tfprod validate` on a real cdktn synthesis through tfprod's generated Kubernetes bindings,
then on copies corrupted one way at a time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tfprod.cli import main

STACK = "stacks/demo/cdk.tf.json"
DEPLOYMENT = "kubernetes_deployment_v1.model-a"
CONTAINER = "spec[0].template[0].spec[0].container[0]"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cdktf.out holding stack `demo`: a Kubernetes provider, a model Deployment, a Service."""
    from cdktn import App, TerraformStack

    from tfprod.bindings.kubernetes import deployment_v1 as dep
    from tfprod.bindings.kubernetes.provider import KubernetesProvider
    from tfprod.bindings.kubernetes.service_v1 import ServiceV1, ServiceV1Metadata, ServiceV1Spec

    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    app = App(outdir=str(outdir))
    stack = TerraformStack(app, "demo")
    KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
    labels = {"app": "model-a"}
    container = dep.DeploymentV1SpecTemplateSpecContainer(
        name="serving",
        image="tensorflow/serving:2.18.0",
        port=[dep.DeploymentV1SpecTemplateSpecContainerPort(container_port=8501)],
    )
    deployment = dep.DeploymentV1(
        stack,
        "model-a",
        metadata=dep.DeploymentV1Metadata(name="model-a", labels=labels),
        spec=dep.DeploymentV1Spec(
            replicas="2",
            selector=dep.DeploymentV1SpecSelector(match_labels=labels),
            template=dep.DeploymentV1SpecTemplate(
                metadata=dep.DeploymentV1SpecTemplateMetadata(labels=labels),
                spec=dep.DeploymentV1SpecTemplateSpec(container=[container]),
            ),
        ),
    )
    ServiceV1(
        stack,
        "model-a-service",
        metadata=ServiceV1Metadata(name=deployment.metadata.name),
        spec=ServiceV1Spec(selector=labels),
    )
    app.synth()
    return outdir


def _corrupted(synthesized: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(synthesized, outdir)
    stack_path = outdir / STACK
    stack = json.loads(stack_path.read_text())
    change(stack)
    stack_path.write_text(json.dumps(stack))
    return outdir


def _deployment(stack: dict[str, Any]) -> dict[str, Any]:
    deployment: dict[str, Any] = stack["resource"]["kubernetes_deployment_v1"]["model-a"]
    return deployment


def _container(stack: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = _deployment(stack)["spec"]["template"]["spec"]["container"][0]
    return container


def test_passes_a_stack_synthesized_through_the_generated_bindings(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(synthesized)])

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == f"{synthesized}: 1 stack (demo) valid against kubernetes 3.4.0\n"


def _rename_type(stack: dict[str, Any]) -> None:
    resources = stack["resource"]
    resources["kubernetes_deploymnt_v1"] = resources.pop("kubernetes_deployment_v1")


def _drop_source(stack: dict[str, Any]) -> None:
    del stack["terraform"]["required_providers"]["kubernetes"]["source"]


CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    (
        "unknown resource type",
        _rename_type,
        [
            "demo: kubernetes_deploymnt_v1.model-a: unknown resource type "
            "'kubernetes_deploymnt_v1' in kubernetes 3.4.0; did you mean kubernetes_deployment_v1?",
            # The Service still names the deployment by its declared type.
            "demo: kubernetes_service_v1.model-a-service: metadata.name: reference to an"
            " undeclared resource kubernetes_deployment_v1.model-a",
        ],
    ),
    (
        "unknown attribute",
        lambda stack: _container(stack).update(imagee="x"),
        [f"demo: {DEPLOYMENT}: {CONTAINER}.imagee: unknown attribute; did you mean image?"],
    ),
    (
        "missing required attribute",
        lambda stack: _container(stack).pop("name"),
        [f"demo: {DEPLOYMENT}: {CONTAINER}.name: missing required attribute"],
    ),
    (
        "missing required block",
        lambda stack: _deployment(stack)["spec"].pop("template"),
        [f"demo: {DEPLOYMENT}: spec[0].template: missing required block: at least 1, got 0"],
    ),
    (
        "too many blocks",
        lambda stack: _deployment(stack).update(metadata=[{"name": "a"}, {"name": "b"}]),
        [f"demo: {DEPLOYMENT}: metadata: too many blocks: at most 1, got 2"],
    ),
    (
        "wrong type",
        lambda stack: _container(stack)["port"][0].update(container_port="http"),
        [f'demo: {DEPLOYMENT}: {CONTAINER}.port[0].container_port: expected number, got "http"'],
    ),
    (
        "computed attribute set",
        lambda stack: _deployment(stack)["metadata"].update(uid="1234"),
        [f"demo: {DEPLOYMENT}: metadata[0].uid: computed by the provider; it cannot be set"],
    ),
    (
        "provider attribute",
        lambda stack: stack["provider"]["kubernetes"][0].update(config_pth="x"),
        ["demo: provider.kubernetes: config_pth: unknown attribute; did you mean config_path?"],
    ),
    (
        "no provider source",
        _drop_source,
        [
            "demo: terraform: required_providers.kubernetes: no source for provider "
            '\'kubernetes\'; add "source" (e.g. "hashicorp/kubernetes")'
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "lines"),
    [pytest.param(change, lines, id=name) for name, change, lines in CORRUPTIONS],
)
def test_prints_one_line_per_finding_and_exits_1(
    synthesized: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    lines: list[str],
) -> None:
    outdir = _corrupted(synthesized, tmp_path, change)

    code = main(["validate", str(outdir)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == lines
    assert err == f"{outdir}: {len(lines)} finding{'s' if len(lines) > 1 else ''}\n"


def test_accepts_an_interpolation_where_a_number_is_expected(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def change(stack: dict[str, Any]) -> None:
        _container(stack)["port"][0]["container_port"] = "${var.port}"
        _deployment(stack)["spec"]["replicas"] = "${var.replicas}"
        stack["variable"] = {"port": {"type": "number"}, "replicas": {"type": "number"}}

    assert main(["validate", str(_corrupted(synthesized, tmp_path, change))]) == 0
    capsys.readouterr()


def test_checks_against_schema_files_given_instead_of_snapshots(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"format_version": "1.0", "provider_schemas": {}}))

    code = main(["validate", str(synthesized), "--schema", str(schema)])

    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[0] == (
        "demo: provider.kubernetes: no schema snapshot for provider "
        "registry.terraform.io/hashicorp/kubernetes; snapshots: none"
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "{d}: no such directory; synthesize first (e.g. python examples/app.py)"),
        (lambda d: d.mkdir(), "{d}: no manifest.json; is it a cdktf.out directory?"),
        (
            lambda d: (d.mkdir(), (d / "manifest.json").write_text("{")),
            "{d}/manifest.json: the manifest is not valid JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            lambda d: (d.mkdir(), (d / "manifest.json").write_text('{"stacks": {}}')),
            "{d}/manifest.json: expected a non-empty object at stacks, got none",
        ),
        (
            lambda d: (
                d.mkdir(),
                (d / "manifest.json").write_text(
                    '{"stacks": {"demo": {"synthesizedStackPath": "stacks/demo/cdk.tf.json"}}}'
                ),
            ),
            "{d}/stacks/demo/cdk.tf.json: no such file (stack 'demo')",
        ),
    ],
    ids=["no directory", "no manifest", "manifest not JSON", "no stacks", "no stack file"],
)
def test_rejects_bad_input_with_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: Callable[[Path], object],
    message: str,
) -> None:
    outdir = tmp_path / "cdktf.out"
    setup(outdir)

    code = main(["validate", str(outdir)])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"tfprod validate: error: {message.format(d=outdir)}\n"


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "args", "summary"),
    [
        pytest.param(
            "examples/app.py",
            [],
            "9 stacks (ecommerce-aws, ecommerce-azure, ecommerce-gcp, fraud-aws, fraud-azure,"
            " fraud-gcp, recommendation-aws, recommendation-azure, recommendation-gcp) valid"
            " against aws 6.69.1, azurerm 5.10.0, google 8.7.0, kubernetes 3.4.0",
            id="example app (make demo)",
        ),
        pytest.param(
            "bench/three_cloud_app.py",
            ["--bindings", "tfprod", "--outdir"],
            "3 stacks (models-aws, models-azure, models-gcp) valid against"
            " aws 6.69.1, azurerm 5.10.0, google 8.7.0, kubernetes 3.4.0",
            id="benchmark app (aws, google, azurerm, kubernetes)",
        ),
    ],
)
def test_the_project_apps_synthesize_valid_json(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    script: str,
    args: list[str],
    summary: str,
) -> None:
    """Each app runs in a fresh interpreter, as `make demo` and `make bench` run them."""
    outdir = tmp_path / "cdktf.out"
    command = [sys.executable, str(REPO / script), *args, str(outdir)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)

    code = main(["validate", str(outdir)])

    assert (code, capsys.readouterr().out) == (0, f"{outdir}: {summary}\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--schema: cannot read {f}: No such file or directory"),
        (
            '{"format_version": "2.0"}',
            '--schema: {f}: $.format_version: expected "1.x", got "2.0"',
        ),
    ],
    ids=["missing", "malformed"],
)
def test_rejects_a_bad_schema_file_with_one_line_and_exit_2(
    synthesized: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    schema = tmp_path / "schema.json"
    if content is not None:
        schema.write_text(content)

    code = main(["validate", str(synthesized), "--schema", str(schema)])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"tfprod validate: error: {message.format(f=schema)}\n"
