"""`tfprod bindings`: provider schema snapshots and the typed bindings generated from them.

Each subcommand is one `_add_<name>(subcommands)` function that adds its parser and sets its
handler; `register` calls them in help order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tfprod.cli._app import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bindings", help="provider schema snapshots and generated Terraform bindings"
    )
    subcommands = parser.add_subparsers(dest="bindings_command", required=True)
    _add_snapshot(subcommands)
    _add_generate(subcommands)


def _add_snapshot(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "snapshot",
        help="write a provider schema snapshot (terraform providers schema -json format)",
        description="Reads the named resource and data source types from an installed prebuilt "
        "CDK Terrain provider package and writes their schema in the format of "
        "`terraform providers schema -json`, with the provider version recorded.",
    )
    parser.add_argument(
        "--from-jsii",
        required=True,
        metavar="PACKAGE",
        help="installed prebuilt provider package, e.g. cdktn-provider-kubernetes",
    )
    parser.add_argument(
        "--resource", nargs="+", default=[], metavar="TYPE", help="resource types to keep"
    )
    parser.add_argument(
        "--data-source", nargs="+", default=[], metavar="TYPE", help="data source types to keep"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="file to write")
    parser.set_defaults(handler=_snapshot)


def _snapshot(args: argparse.Namespace) -> int:
    from tfprod.bindings.generator.jsii_frontend import PrebuiltProvider, locate_package
    from tfprod.bindings.generator.schema_json import SchemaError, dump_schema_json

    if not args.resource and not args.data_source:
        raise UsageError("name at least one --resource or --data-source type")
    try:
        package = locate_package(args.from_jsii)
        schema = PrebuiltProvider(package).schema(
            resources=args.resource, data_sources=args.data_source
        )
    except SchemaError as error:
        raise UsageError(str(error)) from None
    text = dump_schema_json([schema], packages={schema.source: package.pin})
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror}") from None
    count = len(schema.resources) + len(schema.data_sources)
    print(f"wrote {args.out}: {schema.name} {schema.version}, {count} types ({package.pin})")
    return 0


def _add_generate(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "generate",
        help="generate typed Python bindings from a provider schema snapshot",
        description="Writes one Python module per resource and data source, plus the provider "
        "configuration, mirroring the prebuilt cdktn provider package's classes and keyword "
        "arguments. Stale generated modules in the output directory are removed.",
    )
    parser.add_argument("--schema", required=True, type=Path, metavar="FILE", help="snapshot")
    parser.add_argument(
        "--provider", metavar="NAME", help="provider to use when the schema holds several"
    )
    parser.add_argument(
        "--resource", nargs="+", metavar="TYPE", help="resource types (default: all in the schema)"
    )
    parser.add_argument(
        "--data-source",
        nargs="+",
        metavar="TYPE",
        help="data source types (default: all in the schema)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="package directory")
    parser.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from tfprod.bindings.generator.emitter import EmitError, write_package
    from tfprod.bindings.generator.schema_json import SchemaError, load_schema_json

    try:
        providers = load_schema_json(args.schema)
    except OSError as error:
        raise UsageError(f"cannot read {args.schema}: {error.strerror}") from None
    except SchemaError as error:
        raise UsageError(str(error)) from None
    names = sorted(p.name for p in providers)
    chosen = [p for p in providers if args.provider in (None, p.name)]
    if len(chosen) != 1:
        wanted = f"--provider {args.provider}" if args.provider else "one provider"
        raise UsageError(f"{args.schema} must hold {wanted}; it holds: {', '.join(names)}")
    try:
        written = write_package(
            chosen[0],
            args.out,
            snapshot=args.schema.as_posix(),
            resources=args.resource,
            data_sources=args.data_source,
        )
    except EmitError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror}") from None
    print(f"wrote {len(written)} modules to {args.out} ({chosen[0].name} {chosen[0].version})")
    return 0
