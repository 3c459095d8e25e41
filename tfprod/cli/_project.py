"""The project a command runs in: its `cdktf.json`, and where synthesized output goes.

Every command that writes or reads synthesized output resolves the directory the same way:
`--output DIR` when given, else `cdktf.json`'s `output` (relative to the current directory),
else `cdktf.out`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tfprod.cli._app import UsageError

CONFIG_FILE = "cdktf.json"
DEFAULT_OUTPUT = "cdktf.out"


def add_output_argument(parser: argparse.ArgumentParser, *aliases: str) -> None:
    """Add `--output DIR` (and old spellings of it, `aliases`) to `parser`."""
    parser.add_argument(
        "--output",
        *aliases,
        dest="output",
        type=Path,
        metavar="DIR",
        help=f"the synthesized output directory (default: {CONFIG_FILE}'s output, else"
        f" {DEFAULT_OUTPUT})",
    )


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


def project_output(given: Path | None) -> Path:
    """The output directory of the project in the current directory (see the module docstring)."""
    directory = Path.cwd()
    return output_dir(read_config(directory), directory, given)
