"""Synthesize the same app through tfprod's bindings and through a prebuilt cdktn provider.

An oracle test builds its resources with `build(k, stack)`, where `k.<module>` is the module
of that name either under `tfprod.bindings.<provider>` or under `cdktn_provider_<provider>`,
so the same code runs against both. The result is the synthesized Terraform JSON without the
`//` metadata keys cdktn adds (construct paths, which differ by nothing but are noise).

The prebuilt packages are pinned in `constraints-providers.txt`, which `make test` (so CI)
installs; `require_prebuilt` skips a test without them, or fails it in CI.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cdktn

from tests.services import skip_or_fail

Build = Callable[[SimpleNamespace, cdktn.TerraformStack], None]


def require_prebuilt(package: str) -> None:
    """Skips the caller (a test, or the module calling it at import) unless the prebuilt
    `package` is installed; with TFPROD_REQUIRE_SERVICES=1 (CI) its absence fails instead."""
    if importlib.util.find_spec(package.replace("-", "_")) is None:
        skip_or_fail(f"{package} is not installed (`make providers` installs the pinned one)")


def modules(package: str, names: Iterable[str]) -> SimpleNamespace:
    return SimpleNamespace(**{n: importlib.import_module(f"{package}.{n}") for n in names})


def without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_metadata(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [without_metadata(v) for v in value]
    return value


def synth(package: str, names: Iterable[str], build: Build, outdir: Path) -> dict[str, Any]:
    """The stack's Terraform JSON (minus `//` metadata) with `build` run against `package`."""
    app = cdktn.App(outdir=str(outdir))
    stack = cdktn.TerraformStack(app, "oracle")
    build(modules(package, names), stack)
    app.synth()
    document = json.loads((outdir / "stacks" / "oracle" / "cdk.tf.json").read_text())
    result: dict[str, Any] = without_metadata(document)
    return result


def generated_types(package: str) -> list[tuple[str, str]]:
    """(section, terraform type) of every resource and data source generated in `package`."""
    root = importlib.import_module(package)
    found = []
    for name in root.__all__:
        module = importlib.import_module(f"{package}.{name}")
        for value in vars(module).values():
            tf_type = getattr(value, "TF_RESOURCE_TYPE", None)
            if isinstance(value, type) and value.__module__ == module.__name__ and tf_type:
                found.append(("data" if name.startswith("data_") else "resource", tf_type))
    return sorted(found)


def assert_same_type(
    both: tuple[dict[str, Any], dict[str, Any]], section: str, tf_type: str
) -> None:
    """The type's resources are equal in both documents, with several configurations."""
    mine, prebuilt = both
    assert len(prebuilt[section][tf_type]) >= 2, "each type needs several configurations"
    assert mine[section][tf_type] == prebuilt[section][tf_type]
