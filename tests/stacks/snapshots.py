"""Whole-stack snapshots of the cloud part of each platform stack.

The snapshot holds what the cloud stack itself declares: providers, pinned provider versions,
data sources and every resource that is not a Kubernetes workload (those belong to the
constructs and have their own tests). Regenerate after an intended change with:

    python -m tests.stacks.snapshots
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.stacks.conftest import add_deployment
from tests.stacks.test_aws import aws
from tests.stacks.test_azure import azure
from tests.stacks.test_gcp import gcp
from tfprod.bindings._core import App
from tfprod.constructs import ModelPlatformStack

SNAPSHOTS = Path(__file__).parent / "snapshots"
BUILDERS: dict[str, Callable[[App], ModelPlatformStack]] = {
    "aws": lambda app: aws(app, registry_writers=["trainer"]),
    "gcp": lambda app: gcp(app, registry_writers=["trainer"]),
    "azure": lambda app: azure(app, registry_writers=["trainer"]),
}


def cloud_part(cloud: str, outdir: Path) -> dict[str, Any]:
    """Synthesize `cloud`'s stack with one deployment; its cloud part."""
    app = App(outdir=str(outdir))
    add_deployment(BUILDERS[cloud](app))
    app.synth()
    stack = json.loads((outdir / "stacks" / cloud / "cdk.tf.json").read_text())
    return {
        "provider": stack["provider"],
        "required_providers": stack["terraform"]["required_providers"],
        "data": stack["data"],
        "resource": {
            kind: resources
            for kind, resources in stack["resource"].items()
            if not kind.startswith("kubernetes_")
        },
    }


def render(part: dict[str, Any]) -> str:
    return json.dumps(part, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SNAPSHOTS.mkdir(exist_ok=True)
    for cloud in BUILDERS:
        with tempfile.TemporaryDirectory() as directory:
            text = render(cloud_part(cloud, Path(directory)))
        (SNAPSHOTS / f"{cloud}.json").write_text(text)
        sys.stdout.write(f"wrote {SNAPSHOTS / f'{cloud}.json'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
