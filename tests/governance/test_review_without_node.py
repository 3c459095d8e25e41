"""`tfprod review` and `tfprod validate` read files only: no cdktn, no jsii, no Node.js process;
and `validate`, which reads no Policy, not even pydantic.

Each command runs in a fresh interpreter on a synthesized stack, with a `node` first on PATH
that leaves a mark when anything starts it (jsii starts `node` when cdktn is imported; the
control case shows the mark appears then).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.review.apps import proposal_app

NODE_LIBRARIES = ("cdktf", "cdktn", "constructs", "jsii")
WATCHED = (*NODE_LIBRARIES, "pydantic")
REPORT = (
    "import json, sys\n"
    "from tfprod.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"loaded = sorted(name for name in {WATCHED!r} if name in sys.modules)\n"
    "sys.stderr.write(json.dumps({'code': code, 'loaded': loaded}) + '\\n')\n"
)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("no-node") / "cdktf.out"
    proposal_app(outdir)
    return outdir


def _tripwire(directory: Path) -> dict[str, str]:
    """An environment whose first `node` on PATH writes `directory/node-started` and fails."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    node = bin_dir / "node"
    node.write_text(f'#!/bin/sh\necho "$@" >> {directory / "node-started"}\nexit 1\n')
    node.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _run(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", REPORT, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report: dict[str, object] = json.loads(done.stderr.splitlines()[-1])
    return report


@pytest.mark.parametrize(("command", "loaded"), [("review", ["pydantic"]), ("validate", [])])
def test_command_imports_no_node_library_and_starts_no_node(
    command: str, loaded: list[str], synthesized: Path, tmp_path: Path
) -> None:
    args = ("review", "--output", str(synthesized)) if command == "review" else ("validate",)
    if command == "validate":
        args = (*args, str(synthesized))
    assert _run(_tripwire(tmp_path), *args) == {"code": 0, "loaded": loaded}
    assert not (tmp_path / "node-started").exists()


def test_the_tripwire_sees_jsii_start_node(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import cdktn"],
        env=_tripwire(tmp_path),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert (tmp_path / "node-started").exists()
