"""`tfprod registry`: push, list, show, alias and pull model versions.

The registry URI comes from `--registry`, else the `TFPROD_REGISTRY` environment variable,
else `file://./.tfprod/registry`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError

if TYPE_CHECKING:
    from tfprod.runtime.registry import Registry

REGISTRY_VARIABLE = "TFPROD_REGISTRY"
DEFAULT_REGISTRY = "file://./.tfprod/registry"
EXIT_INTEGRITY = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("registry", help="model registry: push, list, show, alias, pull")
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
    _add_registry_option(alias)
    alias.set_defaults(handler=_guarded(_alias))

    pull = commands.add_parser(
        "pull", help="download and verify a version into DIR/<name>/<number>/ for TF Serving"
    )
    pull.add_argument("name")
    pull.add_argument("ref", metavar="VERSION|ALIAS")
    pull.add_argument("--out", type=Path, required=True, metavar="DIR")
    _add_registry_option(pull)
    pull.set_defaults(handler=_guarded(_pull))


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

    uri = args.registry or os.environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY
    return Registry.open(uri)


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
    registry = _open(args)
    registry.set_alias(args.name, args.alias, args.version, reason=args.reason)
    print(f"{args.name}: {args.alias} -> {args.version}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    path = _open(args).pull(args.name, args.ref, args.out)
    print(path)
    return 0
