"""`from tfprod import production` imports no cdktn, jsii or TensorFlow, and starts no Node.js
(a `node` first on PATH leaves a mark if anything starts it, as in
tests/governance/test_review_without_node.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("cdktf", "cdktn", "constructs", "jsii", "tensorflow", "keras")


def test_importing_production_loads_no_node_library_and_no_tensorflow(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "node-started"}\nexit 1\n')
    node.chmod(0o755)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\nfrom tfprod import production\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))",
        ],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout) == []
    assert not (tmp_path / "node-started").exists()
