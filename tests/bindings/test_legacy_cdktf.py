"""The generated bindings work where only legacy CDKTF core (`cdktf`) is installed.

A venv with the pins of `constraints-legacy.txt` (cdktf core, constructs, jsii; no cdktn) is
created once per pin set under the temp directory and reused; the app in `legacy_app.py`
synthesizes there and must give the same Terraform JSON as here, under cdktn.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

import cdktn
import pytest

from tests.bindings.legacy_app import build
from tests.bindings.oracle import without_metadata
from tests.services import skip_or_fail

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "constraints-legacy.txt"


def _legacy_python() -> Path:
    digest = hashlib.sha256(PINS.read_bytes()).hexdigest()[:12]
    home = Path(tempfile.gettempdir()) / f"tfprod-legacy-cdktf-{digest}"
    python = home / "bin" / "python"
    if (home / ".ready").exists():
        return python
    venv.create(home, with_pip=True, clear=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(PINS)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        skip_or_fail(f"cannot install legacy cdktf from {PINS.name}: {lines[-1]}")
    (home / ".ready").touch()
    return python


def _sections(document: dict[str, Any]) -> dict[str, Any]:
    kept = without_metadata(document)
    return {
        "provider": kept["provider"],
        "resource": kept["resource"],
        "required_providers": kept["terraform"]["required_providers"],
    }


def test_bindings_synthesize_the_same_json_under_legacy_cdktf(tmp_path: Path) -> None:
    python = _legacy_python()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    done = subprocess.run(
        [str(python), str(ROOT / "tests" / "bindings" / "legacy_app.py"), str(tmp_path / "legacy")],
        capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    core, _, text = done.stdout.partition("\n")
    assert core == "cdktf"
    legacy = json.loads(text)

    app = cdktn.App(outdir=str(tmp_path / "cdktn"))
    build(cdktn.TerraformStack(app, "legacy"))
    app.synth()
    current = json.loads((tmp_path / "cdktn" / "stacks" / "legacy" / "cdk.tf.json").read_text())

    assert _sections(legacy) == _sections(current)
    assert legacy["resource"]["kubernetes_deployment_v1"]["model"]["metadata"]["namespace"] == (
        "${kubernetes_namespace_v1.ns.metadata[0].name}"
    )


def test_the_legacy_venv_has_no_cdktn() -> None:
    python = _legacy_python()
    done = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('cdktn') is None)"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.stdout.strip() == "True"
    assert sys.executable != str(python)
