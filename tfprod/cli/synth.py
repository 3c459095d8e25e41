"""`tfprod synth`: run the app of `cdktf.json` the way the cdktf/cdktn CLI does.

The app command (`app` key, or `--app`) runs through the shell in the project directory (the
one holding `cdktf.json`) with `CDKTF_OUTDIR` set to the output directory (`output` key, or
`--output`; default `cdktf.out`) and `CDKTF_CONTEXT_JSON` set to the `context` object, which
cdktn's `App` loads into its node context. The output is the same as `cdktn synth` writes:
`manifest.json` and `stacks/<id>/cdk.tf.json`, plus tfprod's policy files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tfprod.cli._app import UsageError

CONFIG_FILE = "cdktf.json"
DEFAULT_OUTPUT = "cdktf.out"
MANIFEST = "manifest.json"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="synthesize the app of cdktf.json into cdktf.out (like `cdktn synth`)",
        description=(
            "Runs the app command of cdktf.json (in the current directory) with CDKTF_OUTDIR and"
            " CDKTF_CONTEXT_JSON set, as the cdktf CLI does, and checks that it wrote"
            " manifest.json."
        ),
    )
    parser.add_argument("--app", help="the command that runs the app (default: cdktf.json's app)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to synthesize (default: cdktf.json's output, else cdktf.out)",
    )
    parser.set_defaults(handler=_run)


def read_config(directory: Path) -> Mapping[str, Any]:
    """The project's `cdktf.json`, {} when there is none; UsageError when it is malformed."""
    path = directory / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None
    if not isinstance(config, dict):
        raise UsageError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


def output_dir(config: Mapping[str, Any], directory: Path, given: Path | None) -> Path:
    """The synthesized output directory: `given`, else the config's `output`, else cdktf.out."""
    if given is not None:
        return given
    output = config.get("output", DEFAULT_OUTPUT)
    if not isinstance(output, str) or not output:
        raise UsageError(
            f"{directory / CONFIG_FILE}: output must be a directory name, got {output!r}"
        )
    return directory / output


def _run(args: argparse.Namespace) -> int:
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
    completed = subprocess.run(app, shell=True, cwd=directory, env=env, check=False)
    if completed.returncode != 0:
        print(
            f"tfprod synth: error: the app ({app}) exited with status {completed.returncode}",
            file=sys.stderr,
        )
        return 1
    manifest = output / MANIFEST
    try:
        stacks = json.loads(manifest.read_text(encoding="utf-8"))["stacks"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        print(
            f"tfprod synth: error: the app did not write a manifest to {manifest}; does it call"
            " app.synth() on an App without an explicit outdir?",
            file=sys.stderr,
        )
        return 1
    print(f"synthesized {len(stacks)} stack(s) into {output}: {', '.join(sorted(stacks))}")
    return 0
