"""`tfprod synth`: runs cdktf.json's app like the cdktf CLI, and refuses bad configuration."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tfprod.cli import main

# The app names its stack after the context value "stack", as `cdktf synth` passes context.
APP = """\
import sys
from tfprod.bindings._core import App, TerraformStack
from tfprod.bindings.kubernetes.provider import KubernetesProvider

app = App(outdir=sys.argv[1]) if len(sys.argv) > 1 else App()
stack = TerraformStack(app, app.node.try_get_context("stack") or "default")
KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
app.synth()
"""
PYTHON = shlex.quote(sys.executable)


def _project(directory: Path, config: object) -> Path:
    (directory / "app.py").write_text(APP, encoding="utf-8")
    (directory / "cdktf.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def test_synth_runs_the_app_with_outdir_and_context_like_cdktf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {"app": f"{PYTHON} app.py", "output": "out", "context": {"stack": "models"}}
    monkeypatch.chdir(_project(tmp_path, config))
    assert main(["synth"]) == 0
    assert capsys.readouterr().out == (f"synthesized 1 stack(s) into {tmp_path / 'out'}: models\n")
    synthesized = (tmp_path / "out" / "stacks" / "models" / "cdk.tf.json").read_bytes()
    # The app run on its own with its output directory given writes the same bytes.
    env = {**os.environ, "CDKTF_CONTEXT_JSON": json.dumps({"stack": "models"})}
    subprocess.run(
        [sys.executable, "app.py", str(tmp_path / "direct")], cwd=tmp_path, env=env, check=True
    )
    direct = (tmp_path / "direct" / "stacks" / "models" / "cdk.tf.json").read_bytes()
    assert synthesized == direct


def test_missing_config_and_no_app_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["synth"]) == 2
    assert capsys.readouterr().err == (
        f"tfprod synth: error: no app to run: {tmp_path / 'cdktf.json'} is missing or has no"
        " 'app'; give --app CMD\n"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[1, 2]", "{path} must hold a JSON object, got list"),
        ('{"app": 3}', "app must be a shell command, got 3"),
        ('{"app": "  "}', "app must be a shell command, got '  '"),
        ('{"app": "true", "output": ""}', "{path}: output must be a directory name, got ''"),
        ('{"app": "true", "context": []}', "{path}: context must be a JSON object, got []"),
        ('{"app": ', "{path} is not JSON: Expecting value: line 1 column 9 (char 8)"),
    ],
)
def test_bad_config_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    message: str,
) -> None:
    (tmp_path / "cdktf.json").write_text(config, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["synth"]) == 2
    expected = message.format(path=tmp_path / "cdktf.json")
    assert capsys.readouterr().err == f"tfprod synth: error: {expected}\n"


def test_failing_app_exits_1_with_its_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, {"app": "exit 3"}))
    assert main(["synth"]) == 1
    assert capsys.readouterr().err == (
        "tfprod synth: error: the app (exit 3) exited with status 3\n"
    )


def test_app_that_writes_no_manifest_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, {"app": "true"}))
    assert main(["synth"]) == 1
    assert capsys.readouterr().err == (
        "tfprod synth: error: the app did not write a manifest to"
        f" {tmp_path / 'cdktf.out' / 'manifest.json'}; does it call app.synth() on an App"
        " without an explicit outdir?\n"
    )


# A tfprod app with a declaration error: `environment` is not a DNS-1123 label.
BAD_APP = """\
from tfprod.constructs import App, ModelDeployment
from tfprod.stacks.cluster import ClusterModelPlatform

app = App()
stack = ClusterModelPlatform(app, "ml", registry_uri="s3://models/registry", namespace="ml")
ModelDeployment(stack, "rec", name="rec", model="rec", version="rec-v1", environment="Prod")
app.synth()
"""
# Production without a safety net or enough replicas: governance errors at synth.
UNGOVERNED_APP = """\
from tfprod.constructs import App, ModelDeployment
from tfprod.stacks.cluster import ClusterModelPlatform

app = App()
stack = ClusterModelPlatform(app, "ml", registry_uri="s3://models/registry", namespace="ml")
ModelDeployment(
    stack, "rec", name="rec", model="rec", version="rec-v1", environment="production", replicas=1
)
app.synth()
"""
ENVIRONMENT_ERROR = (
    "ml/rec: environment: 'Prod' is not a DNS-1123 label; allowed: 1 to 63 lower-case letters,"
    " digits or '-', starting and ending with a letter or digit"
)


def _synth_app(directory: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`tfprod synth` (a process of its own, as a user runs it) of the app `source`."""
    (directory / "app.py").write_text(source, encoding="utf-8")
    (directory / "cdktf.json").write_text(json.dumps({"app": f"{PYTHON} app.py"}))
    return subprocess.run(
        [sys.executable, "-m", "tfprod", "synth", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_a_declaration_error_is_one_line_with_the_construct_path_and_exit_2(
    tmp_path: Path,
) -> None:
    result = _synth_app(tmp_path, BAD_APP)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"{ENVIRONMENT_ERROR}\n")


@pytest.mark.slow
def test_governance_errors_are_one_line_each_with_the_construct_path_and_exit_2(
    tmp_path: Path,
) -> None:
    result = _synth_app(tmp_path, UNGOVERNED_APP)
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR ")]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(errors) >= 2
    assert all(re.fullmatch(r"ERROR TFP\d{3} ml/rec\S*: .+", line) for line in errors), errors


@pytest.mark.slow
def test_debug_shows_the_traceback_of_a_declaration_error(tmp_path: Path) -> None:
    result = _synth_app(tmp_path, BAD_APP, "--debug")
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith(
        f"tfprod.constructs.errors.ConstructError: {ENVIRONMENT_ERROR}\n"
        f"tfprod synth: error: the app ({PYTHON} app.py) exited with status 1\n"
    )
