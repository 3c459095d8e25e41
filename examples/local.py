"""The local flavour of every example: its cluster-only stack, pointed at a `file://` registry.

`tfprod up` runs a stack's deployments on this machine, and needs registries it can reach;
the cloud stacks name S3, GCS and Azure buckets. This app declares each example once more, as
`<example>-local` (a `ClusterModelPlatform` with the registry given), and synthesizes them:

    python -m examples.register_models --registry file://$PWD/.tfprod/registry
    python -m examples.local --registry file://$PWD/.tfprod/registry --outdir .tfprod/cdktf.out
    tfprod up recommendation-local --outdir .tfprod/cdktf.out
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.app import EXAMPLES
from examples.clouds import LOCAL, LOCAL_REGISTRY_CONTEXT
from tfprod.constructs import App


def synthesize_local(outdir: Path, registry_uri: str) -> list[str]:
    """Synthesizes every example's local stack into `outdir`; their stack ids."""
    app = App(outdir=str(outdir), context={LOCAL_REGISTRY_CONTEXT: registry_uri})
    stacks = [example.build(app, LOCAL).node.id for example in EXAMPLES]
    app.synth()
    return stacks


def registry_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--registry`, which takes an absolute `file://` URI only (the local platform's)."""
    parser.add_argument(
        "--registry",
        required=True,
        type=_file_uri,
        help="the local registry's URI, an absolute file:// URI (e.g. file:///srv/registry)",
    )


def _file_uri(value: str) -> str:
    if not value.startswith("file:///"):
        raise argparse.ArgumentTypeError(f"must be an absolute file:// URI, got {value!r}")
    return value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.local", description=__doc__.splitlines()[0] if __doc__ else None
    )
    registry_argument(parser)
    parser.add_argument("--outdir", type=Path, default=Path(".tfprod/cdktf.out"))
    args = parser.parse_args(argv)
    stacks = synthesize_local(args.outdir, args.registry)
    print(f"synthesized {', '.join(stacks)} into {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
