"""Argument parsing and error reporting shared by every `tfprod` subcommand.

Each subcommand family lives in its own module under `tfprod.cli` and exposes
`register(subparsers)`, which adds its parsers and sets `handler` on each. Handlers import
heavy dependencies lazily, so `tfprod --help` and runtime-only commands start fast and
never load Node.js through cdktn.

Bad input ends with exit code 2 and a single line on stderr, never a traceback: handlers
raise `UsageError` (or let argparse reject the arguments).

TensorFlow's C++ start-up log (6-8 lines on every import) is kept out of tfprod's own output:
`TF_CPP_MIN_LOG_LEVEL` defaults to 2 for the process and every process it starts, and the
commands that load TensorFlow (`TENSORFLOW_COMMANDS`) import it first with stderr captured,
since absl writes its first lines before any log level applies (`quiet_tensorflow_import`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import NoReturn

# Modules under tfprod.cli that contribute subcommands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "bindings",
    "controller",
    "explainer",
    "gateway",
    "policy",
    "registry",
    "review",
    "rollout",
    "serve",
    "synth",
    "up",
    "validate",
)

EXIT_USAGE = 2
TENSORFLOW_COMMANDS = frozenset({"explainer", "serve", "registry push"})
"""Commands (with their subcommand) whose handlers import TensorFlow."""
TF_LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_TF_LOG_LEVEL = "2"
"""TensorFlow's C++ log shows errors only, unless the user set the variable otherwise."""


class UsageError(Exception):
    """The user asked for something that cannot be done; the message says what and why."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tfprod",
        description="A TensorFlow model's production life as infrastructure code.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tfprod.cli.{name}")
        module.register(subparsers)
    return parser


def quiet_tensorflow_import() -> None:
    """Import TensorFlow with file descriptor 2 captured, so the lines absl writes before its
    logging is initialised (which no log level filters) stay out of the output; they are
    written out after all if the import fails."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _command(args: argparse.Namespace) -> str:
    """The command and subcommand run, e.g. "registry push"."""
    subcommand = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {subcommand}" if subcommand else str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault(TF_LOG_LEVEL_VARIABLE, QUIET_TF_LOG_LEVEL)
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        if _command(args) in TENSORFLOW_COMMANDS:
            quiet_tensorflow_import()
        return handler(args)
    except UsageError as error:
        print(f"tfprod {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
