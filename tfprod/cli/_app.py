"""Argument parsing and error reporting shared by every `tfprod` subcommand.

Each subcommand family lives in its own module under `tfprod.cli` and exposes
`register(subparsers)`, which adds its parsers and sets `handler` on each. Handlers import
heavy dependencies lazily, so `tfprod --help` and runtime-only commands start fast and
never load Node.js through cdktn.

Bad input ends with exit code 2 and a single line on stderr, never a traceback: handlers
raise `UsageError` (or let argparse reject the arguments).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

# Modules under tfprod.cli that contribute subcommands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "bindings",
    "gateway",
    "policy",
    "registry",
    "review",
    "serve",
    "synth",
    "up",
    "validate",
)

EXIT_USAGE = 2


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageError as error:
        print(f"tfprod {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
