"""`tfprod validate [--output DIR]`: the offline stand-in for `terraform validate`.

Reads the synthesized output with `tfprod.policy.synthesized` (the manifest as cdktn writes
it, then each stack's `cdk.tf.json`; the directory found as every command finds it, or given as
`validate DIR` as before), and checks every provider, resource and data block against the
committed provider schema snapshots
(`tfprod/bindings/snapshots/<type>.json`, picked by the provider sources the stack declares in
`terraform.required_providers`), or against the schema files given with `--schema`; and
checks what each `${...}` template references (`tfprod.bindings.generator.references`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError
from tfprod.cli._project import add_output_argument, project_output

if TYPE_CHECKING:
    from tfprod.bindings.generator.ir import ProviderSchema

SNAPSHOTS = Path(__file__).resolve().parent.parent / "bindings" / "snapshots"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a synthesized cdktf.out against provider schemas, offline",
        description=(
            "Checks every provider, resource and data block of each stack in DIR against the"
            " provider schema snapshots: unknown types and attributes, missing required ones,"
            " wrong types, block counts; and what ${...} templates name: declared variables,"
            " locals, data sources, resources and their attributes. Prints one line per"
            " finding and exits 1 on any."
        ),
    )
    parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        metavar="DIR",
        help="the synthesized output directory, as --output (kept for scripts that give it so)",
    )
    add_output_argument(parser)
    parser.add_argument(
        "--schema",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help=(
            "a `terraform providers schema -json` file to check against instead of the"
            " committed snapshots (repeatable)"
        ),
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tfprod.bindings.generator.schema_json import SchemaError, load_schema_json
    from tfprod.bindings.generator.validate import (
        normalize_source,
        provider_sources,
        validate_stack,
    )

    if args.dir is not None and args.output is not None:
        raise UsageError("give the output directory once: DIR or --output, not both")
    directory = project_output(args.dir if args.dir is not None else args.output)
    stacks = _read_stacks(directory)
    given: list[ProviderSchema] = []
    for path in args.schema:
        try:
            given.extend(load_schema_json(path))
        except OSError as error:
            raise UsageError(f"--schema: cannot read {path}: {error.strerror}") from None
        except SchemaError as error:
            raise UsageError(f"--schema: {path}: {error}") from None
    snapshots = _Snapshots()
    findings = []
    used: set[str] = set()
    for name, stack_json in stacks:
        sources = provider_sources(stack_json)
        schemas = given if args.schema else snapshots.for_sources(sources)
        used.update(
            _describe(schema) for schema in schemas if normalize_source(schema.source) in sources
        )
        findings.extend(validate_stack(stack_json, schemas, stack=name))
    for finding in findings:
        print(finding)
    if findings:
        noun = "finding" if len(findings) == 1 else "findings"
        print(f"{directory}: {len(findings)} {noun}", file=sys.stderr)
        return 1
    names = ", ".join(name for name, _ in stacks)
    noun = "stack" if len(stacks) == 1 else "stacks"
    against = ", ".join(sorted(used)) or "no providers"
    print(f"{directory}: {len(stacks)} {noun} ({names}) valid against {against}")
    return 0


def _describe(schema: ProviderSchema) -> str:
    return f"{schema.name} {schema.version}" if schema.version else schema.name


def _read_stacks(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each stack's name and synthesized JSON, in manifest order."""
    from tfprod.policy.synthesized import SynthesizedError, read_synthesized

    try:
        return [(stack.name, stack.document()) for stack in read_synthesized(directory)]
    except SynthesizedError as error:
        raise UsageError(str(error)) from None


class _Snapshots:
    """The committed snapshots, each loaded at most once, found by provider type name."""

    def __init__(self) -> None:
        self._loaded: dict[Path, list[ProviderSchema]] = {}

    def for_sources(self, sources: set[str]) -> list[ProviderSchema]:
        from tfprod.bindings.generator.schema_json import load_schema_json
        from tfprod.bindings.generator.validate import normalize_source

        schemas: list[ProviderSchema] = []
        for source in sorted(sources):
            path = SNAPSHOTS / f"{source.rsplit('/', 1)[-1]}.json"
            if not path.is_file():
                continue  # validate_stack reports the provider as having no snapshot
            if path not in self._loaded:
                self._loaded[path] = load_schema_json(path)
            schemas.extend(s for s in self._loaded[path] if normalize_source(s.source) == source)
        return schemas
