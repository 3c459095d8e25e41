"""`tfprod registry`: push, list, show, alias, history, pull and gc model versions.

The registry URI comes from `--registry`, else the `TFPROD_REGISTRY` environment variable,
else `file://./.tfprod/registry`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError

if TYPE_CHECKING:
    from tfprod.runtime.registry import Registry

REGISTRY_VARIABLE = "TFPROD_REGISTRY"
DEFAULT_REGISTRY = "file://./.tfprod/registry"
EXIT_INTEGRITY = 1
DEFAULT_GC_AGE = "24h"
_DURATION = re.compile(r"([0-9]+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "registry", help="model registry: push, list, show, alias, history, pull, gc"
    )
    commands = parser.add_subparsers(dest="registry_command", required=True)

    push = commands.add_parser("push", help="publish a SavedModel directory as a new version")
    push.add_argument("path", type=Path, help="the SavedModel directory")
    push.add_argument("--name", required=True, help="model name, e.g. churn")
    push.add_argument("--version", required=True, help="version string, immutable once pushed")
    push.add_argument(
        "--metadata", action="append", default=[], metavar="KEY=VALUE", help="free-form metadata"
    )
    push.add_argument("--dataset-version", help="version of the training data set")
    push.add_argument(
        "--metric", action="append", default=[], metavar="NAME=NUMBER", help="evaluation metric"
    )
    _add_registry_option(push)
    push.set_defaults(handler=_guarded(_push))

    listing = commands.add_parser("list", help="list models, or the versions of one model")
    listing.add_argument("name", nargs="?", help="a model name; leave out to list models")
    _add_registry_option(listing)
    listing.set_defaults(handler=_guarded(_list))

    show = commands.add_parser("show", help="print one version's record as JSON")
    show.add_argument("name")
    show.add_argument("ref", metavar="VERSION|ALIAS")
    _add_registry_option(show)
    show.set_defaults(handler=_guarded(_show))

    alias = commands.add_parser("alias", help="point an alias (stable, canary, ...) at a version")
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version")
    alias.add_argument("--reason", default="", help="recorded in the alias history")
    alias.add_argument(
        "--history-limit",
        type=int,
        default=None,
        metavar="N",
        help="keep the last N changes in the alias history, counting the dropped ones "
        "(default: 1000; 0 keeps every change)",
    )
    _add_registry_option(alias)
    alias.set_defaults(handler=_guarded(_alias))

    history = commands.add_parser("history", help="print the changes of an alias, oldest first")
    history.add_argument("name")
    history.add_argument("alias")
    _add_registry_option(history)
    history.set_defaults(handler=_guarded(_history))

    pull = commands.add_parser(
        "pull", help="download and verify a version into DIR/<name>/<number>/ for TF Serving"
    )
    pull.add_argument("name")
    pull.add_argument("ref", metavar="VERSION|ALIAS")
    pull.add_argument("--out", type=Path, required=True, metavar="DIR")
    _add_registry_option(pull)
    pull.set_defaults(handler=_guarded(_pull))

    gc = commands.add_parser(
        "gc", help="list (or, with --delete, remove) uploads that never became a version"
    )
    gc.add_argument(
        "--older-than",
        default=DEFAULT_GC_AGE,
        metavar="AGE",
        help=f"only uploads last written longer ago than AGE, e.g. 30m, 24h, 7d "
        f"(default: {DEFAULT_GC_AGE})",
    )
    gc.add_argument(
        "--delete", action="store_true", help="remove them (default: a dry run that lists them)"
    )
    _add_registry_option(gc)
    gc.set_defaults(handler=_guarded(_gc))


def _add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="URI",
        help=f"file://, s3://, gs:// or az:// URI (default: ${REGISTRY_VARIABLE} or "
        f"{DEFAULT_REGISTRY})",
    )


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Reports errors in one line: a failed integrity check exits 1; every other registry
    error (unknown names, existing versions, bad URIs) and local file errors exit 2."""

    def run(args: argparse.Namespace) -> int:
        from tfprod.runtime.registry import ChecksumMismatchError, RegistryError

        try:
            return handler(args)
        except ChecksumMismatchError as error:
            print(f"tfprod registry: error: {error}", file=sys.stderr)
            return EXIT_INTEGRITY
        except RegistryError as error:
            raise UsageError(str(error)) from None
        except OSError as error:  # reading the model or writing the pulled files
            raise UsageError(f"{error.filename}: {error.strerror}") from None

    return run


def _open(args: argparse.Namespace) -> Registry:
    from tfprod.runtime.registry import Registry

    return Registry.open(_uri(args))


def _uri(args: argparse.Namespace) -> str:
    uri: str = args.registry or os.environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY
    return uri


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, separator, item = value.partition("=")
        if not separator or not key:
            raise UsageError(f"{option} {value!r} must be KEY=VALUE")
        pairs[key] = item
    return pairs


def _push(args: argparse.Namespace) -> int:
    metrics: dict[str, float] = {}
    for key, value in _pairs(args.metric, "--metric").items():
        try:
            metrics[key] = float(value)
        except ValueError:
            raise UsageError(f"--metric {key}={value!r}: the value must be a number") from None
    registry = _open(args)
    version = registry.register(
        args.path,
        name=args.name,
        version=args.version,
        metadata=_pairs(args.metadata, "--metadata"),
        dataset_version=args.dataset_version,
        metrics=metrics,
    )
    print(
        f"published {version.name} {version.version} (TF Serving version "
        f"{version.serving_version}, {len(version.files)} files) to {registry.uri}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    registry = _open(args)
    if args.name is None:
        for name in registry.models():
            print(name)
        return 0
    by_version: dict[str, list[str]] = {}
    for alias, version in registry.aliases(args.name).items():
        by_version.setdefault(version, []).append(alias)
    for item in registry.versions(args.name):
        aliases = ", ".join(by_version.get(item.version, []))
        line = f"{item.version}\t{item.serving_version}\t{item.created_at}\t{aliases}"
        print(line.rstrip("\t"))
    return 0


def _show(args: argparse.Namespace) -> int:
    registry = _open(args)
    version = registry.get(args.name, args.ref)
    record = dataclasses.asdict(version)
    record["aliases"] = [
        alias for alias, target in registry.aliases(args.name).items() if target == version.version
    ]
    print(json.dumps(record, indent=2, sort_keys=True))
    return 0


def _alias(args: argparse.Namespace) -> int:
    from tfprod.runtime.registry import DEFAULT_ALIAS_HISTORY_LIMIT, Registry

    limit = DEFAULT_ALIAS_HISTORY_LIMIT if args.history_limit is None else args.history_limit
    if limit < 0:
        raise UsageError(f"--history-limit {limit}: must be 0 (keep every change) or more")
    registry = Registry.open(_uri(args), alias_history_limit=limit or None)
    registry.set_alias(args.name, args.alias, args.version, reason=args.reason)
    print(f"{args.name}: {args.alias} -> {args.version}")
    dropped = registry.dropped_alias_changes(args.name, args.alias)
    if dropped:
        print(f"(history keeps the last {limit} changes; {dropped} older ones dropped)")
    return 0


def _history(args: argparse.Namespace) -> int:
    registry = _open(args)
    dropped = registry.dropped_alias_changes(args.name, args.alias)
    if dropped:
        print(f"({dropped} older changes dropped by the history limit)")
    for change in registry.alias_history(args.name, args.alias):
        print(f"{change.at}\t{change.version}\t{change.reason}".rstrip("\t"))
    return 0


def _gc(args: argparse.Namespace) -> int:
    match = _DURATION.fullmatch(args.older_than)
    if match is None:
        raise UsageError(
            f"--older-than {args.older_than!r} must be a number with s, m, h or d, e.g. 24h"
        )
    seconds = int(match[1]) * _SECONDS[match[2]]
    registry = _open(args)
    orphans = registry.gc(older_than_seconds=seconds, delete=args.delete)
    verb = "removed" if args.delete else "would remove"
    for orphan in orphans:
        written = datetime.fromtimestamp(orphan.last_modified, UTC).isoformat(timespec="seconds")
        print(
            f"{verb} upload {orphan.upload_id} of {orphan.name} {orphan.version} "
            f"({orphan.objects} objects, last written {written})"
        )
    hint = "" if args.delete or not orphans else "; run with --delete to remove them"
    print(f"{len(orphans)} uncommitted uploads older than {args.older_than}{hint}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    path = _open(args).pull(args.name, args.ref, args.out)
    print(path)
    return 0
