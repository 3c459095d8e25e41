"""`from tfprod import production` imports no cdktn, jsii or TensorFlow, and starts no Node.js."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("cdktf", "cdktn", "constructs", "jsii", "tensorflow", "keras")


def test_importing_production_loads_no_node_library_and_no_tensorflow() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\nfrom tfprod import production\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout) == []
