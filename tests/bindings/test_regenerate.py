"""Regenerating from the committed snapshots reproduces the committed bindings byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfprod.bindings.generator.emitter import emit_package
from tfprod.bindings.generator.schema_json import load_schema_json

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ["kubernetes", "aws", "google", "azurerm"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_committed_bindings_equal_a_fresh_generation(provider: str) -> None:
    snapshot = f"tfprod/bindings/snapshots/{provider}.json"
    (schema,) = load_schema_json(ROOT / snapshot)
    emitted = emit_package(schema, snapshot=snapshot)
    package = ROOT / "tfprod" / "bindings" / provider
    committed = {path.name: path.read_text(encoding="utf-8") for path in package.glob("*.py")}
    assert sorted(committed) == sorted(emitted.files), "run `make bindings`"
    for name, text in emitted.files.items():
        assert committed[name] == text, f"{provider}/{name} differs: run `make bindings`"
