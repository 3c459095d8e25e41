"""`tfprod policy`: print the Policy JSON Schema, check a policy file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tfprod.cli._app import EXIT_USAGE, UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="the Policy document: schema and checks")
    commands = parser.add_subparsers(dest="policy_command", required=True)

    schema = commands.add_parser("schema", help="print the Policy JSON Schema")
    schema.add_argument("--output", type=Path, help="write it to this file instead of stdout")
    schema.set_defaults(handler=_schema)

    check = commands.add_parser(
        "check", help="validate a policy JSON file and report its worst-case time to rollback"
    )
    check.add_argument("file", type=Path, help="the policy, e.g. cdktf.out/.../policy.json")
    check.set_defaults(handler=_check)


def _schema(args: argparse.Namespace) -> int:
    from tfprod.policy.schema import schema_text

    if args.output is None:
        sys.stdout.write(schema_text())
        return 0
    try:
        args.output.write_text(schema_text(), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
    return 0


def _check(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from tfprod.policy import PolicyError, read_policy, rollback_timing, validation_lines

    path: Path = args.file
    try:
        policy = read_policy(path)
    except PolicyError as error:
        raise UsageError(str(error)) from None
    except ValidationError as error:
        for line in validation_lines(error, notation="document"):
            print(f"{path}: {line}", file=sys.stderr)
        return EXIT_USAGE
    worst = rollback_timing(policy).worst
    timing = (
        f"worst-case time to rollback {worst.seconds:g} s ({worst.cause})"
        if worst is not None
        else "nothing to roll back"
    )
    print(f"{path}: valid policy {policy.name!r} ({policy.schema_version}); {timing}")
    return 0
