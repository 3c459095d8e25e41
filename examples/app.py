"""The project's cdktn app (`cdktf.json` runs it): every example, on every cloud.

Three teams' model platforms (`recommendation_system`, `fraud_detection`,
`e_commerce_deployment`), each declared once and synthesized as one stack per cloud
(`recommendation-aws`, `recommendation-gcp`, `recommendation-azure`, ...) by tfprod's `App`,
which also writes each deployment's policy next to its stack. Output goes to cdktf.out (or
the directory given, or `CDKTF_OUTDIR`); `make demo` then checks it with
`tfprod validate cdktf.out`.

    python examples/app.py [OUTDIR]
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

from examples import e_commerce_deployment, fraud_detection, recommendation_system
from examples.clouds import CLOUDS
from tfprod.constructs import App

EXAMPLES = (recommendation_system, fraud_detection, e_commerce_deployment)


def build(app: App) -> list[str]:
    """Declare every example on every cloud in `app`; the stack ids, in declaration order."""
    return [example.build(app, cloud).node.id for example in EXAMPLES for cloud in CLOUDS]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "outdir",
        nargs="?",
        help="output directory (default: CDKTF_OUTDIR when the cdktf CLI runs the app, else"
        " cdktf.out)",
    )
    outdir = parser.parse_args(argv).outdir
    app = App(outdir=outdir) if outdir else App()
    stacks = build(app)
    app.synth()
    print(f"synthesized {len(stacks)} stacks ({', '.join(stacks)}) into {app.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
