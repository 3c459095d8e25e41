"""`tfprod synth`: run the app of `cdktf.json` the way the cdktf/cdktn CLI does.

The app command (`app` key, or `--app`) runs through the shell in the project directory (the
one holding `cdktf.json`) with `CDKTF_OUTDIR` set to the output directory (`output` key, or
`--output`; default `cdktf.out`) and `CDKTF_CONTEXT_JSON` set to the `context` object, which
cdktn's `App` loads into its node context. The output is the same as `cdktn synth` writes:
`manifest.json` and `stacks/<id>/cdk.tf.json`, plus tfprod's policy files.

A declaration error ends a tfprod app with a `ConstructError`; with `DECLARATION_ERRORS_VARIABLE`
set, the app writes the error's lines (each naming its construct path) to that file instead of
printing a traceback (see `tfprod.constructs.errors`), and `tfprod synth` shows them, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tfprod.cli._app import EXIT_USAGE, UsageError
from tfprod.cli._project import CONFIG_FILE, add_output_argument, output_dir, read_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="synthesize the app of cdktf.json into cdktf.out (like `cdktn synth`)",
        description=(
            "Runs the app command of cdktf.json (in the current directory) with CDKTF_OUTDIR and"
            " CDKTF_CONTEXT_JSON set, as the cdktf CLI does, and checks that it wrote"
            " manifest.json. A declaration error (a construct's bad prop, a governance"
            " error) is shown as one line per problem with the construct path, exit 2."
        ),
    )
    parser.add_argument("--app", help="the command that runs the app (default: cdktf.json's app)")
    add_output_argument(parser)
    parser.add_argument(
        "--debug",
        action="store_true",
        help="let a declaration error end in its Python traceback, as the app alone prints it",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tfprod.policy.synthesized import (
        DECLARATION_ERRORS_VARIABLE,
        MANIFEST,
        SynthesizedError,
        read_synthesized,
    )

    directory = Path.cwd()
    config = read_config(directory)
    app = args.app if args.app is not None else config.get("app")
    if app is None:
        raise UsageError(
            f"no app to run: {directory / CONFIG_FILE} is missing or has no 'app'; give --app CMD"
        )
    if not isinstance(app, str) or not app.strip():
        raise UsageError(f"app must be a shell command, got {app!r}")
    context = config.get("context", {})
    if not isinstance(context, dict):
        raise UsageError(
            f"{directory / CONFIG_FILE}: context must be a JSON object, got {context!r}"
        )
    output = output_dir(config, directory, args.output).resolve()
    env = {**os.environ, "CDKTF_OUTDIR": str(output), "CDKTF_CONTEXT_JSON": json.dumps(context)}
    with tempfile.TemporaryDirectory(prefix="tfprod-synth-") as scratch:
        report = Path(scratch) / "declaration-errors.txt"
        if not args.debug:
            env[DECLARATION_ERRORS_VARIABLE] = str(report)
        completed = subprocess.run(app, shell=True, cwd=directory, env=env, check=False)
        problems = report.read_text(encoding="utf-8") if report.exists() else ""
    if problems:
        sys.stderr.write(problems)
        return EXIT_USAGE
    if completed.returncode != 0:
        print(
            f"tfprod synth: error: the app ({app}) exited with status {completed.returncode}",
            file=sys.stderr,
        )
        return 1
    try:
        synthesized = read_synthesized(output)
    except SynthesizedError:
        print(
            f"tfprod synth: error: the app did not write a manifest to {output / MANIFEST}; does"
            " it call app.synth() on an App without an explicit outdir?",
            file=sys.stderr,
        )
        return 1
    names = synthesized.names
    print(f"synthesized {len(names)} stack(s) into {output}: {', '.join(sorted(names))}")
    return 0
