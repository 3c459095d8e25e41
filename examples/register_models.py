"""Registers every model version the examples' local stacks name, so `tfprod up` can run them.

Each version is one of `examples.toy_models`' tiny real TensorFlow classifiers (trained in a
second or two; a different seed per version, so versions disagree a little). Versions the
registry already holds are left as they are, so running this again only adds what is missing.

    python -m examples.register_models --registry file://$PWD/.tfprod/registry [EXAMPLE ...]

EXAMPLE is a local stack's prefix (`recommendation`, `fraud`, `ecommerce`); default: all.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.local import registry_argument, synthesize_local
from examples.toy_models import export_tiny_classifier
from tfprod.policy import split_artifact_uri
from tfprod.runtime.local import stack_policies
from tfprod.runtime.registry import NoRegistryError, Registry


def register_versions(
    registry_uri: str, versions: Iterable[tuple[str, str]], workdir: Path
) -> list[tuple[str, str]]:
    """Trains and registers each (model, version) the registry lacks; the ones it registered."""
    registry = Registry.open(registry_uri)
    added = []
    for seed, (model, version) in enumerate(versions, start=1):
        if version in _registered(registry, model):
            continue
        started = time.perf_counter()
        export_dir = export_tiny_classifier(workdir / model / version, seed=seed)
        registry.register(export_dir, name=model, version=version)
        print(f"  trained and registered {model} {version} ({time.perf_counter() - started:.1f} s)")
        added.append((model, version))
    return added


def _registered(registry: Registry, model: str) -> set[str]:
    """The versions of `model` already in `registry`; none in a registry nothing was pushed to."""
    try:
        return {known.version for known in registry.versions(model)}
    except NoRegistryError:
        return set()


def versions_named(outdir: Path, stacks: Sequence[str]) -> list[tuple[str, str]]:
    """Every (model, version) the policies of `stacks` in `outdir` serve, in order, once."""
    named: dict[tuple[str, str], None] = {}
    for stack in stacks:
        for policy in stack_policies(outdir, stack):
            for version in policy.versions:
                _, model, version_id = split_artifact_uri(version.artifact)
                named[(model, version_id)] = None
    return list(named)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.register_models",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    registry_argument(parser)
    parser.add_argument("examples", nargs="*", help="local stack prefixes (default: all)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        stacks = synthesize_local(scratch / "cdktf.out", args.registry)
        chosen = [
            s for s in stacks if not args.examples or s.removesuffix("-local") in args.examples
        ]
        unknown = sorted(set(args.examples) - {s.removesuffix("-local") for s in stacks})
        if unknown:
            allowed = ", ".join(s.removesuffix("-local") for s in stacks)
            parser.error(f"unknown example {unknown[0]!r}; allowed: {allowed}")
        added = register_versions(
            args.registry, versions_named(scratch / "cdktf.out", chosen), scratch / "training"
        )
    print(f"{len(added)} versions registered in {args.registry} for {', '.join(chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
