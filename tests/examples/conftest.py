"""The example app synthesized once per test module, and readers for what it wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.app import build
from tests.constructs.stacks import synth_proposal
from tfprod.constructs import App
from tfprod.policy import Policy, read_policy


def synth_examples(outdir: Path) -> list[str]:
    """Synthesize every example on every cloud into `outdir`; the stack ids."""
    app = App(outdir=str(outdir))
    stacks = build(app)
    app.synth()
    return stacks


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("examples") / "cdktf.out"
    synth_examples(path)
    return path


@pytest.fixture(scope="module")
def proposal(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The synthesized JSON of the constructs' proposal stack (tests.constructs.stacks)."""
    return synth_proposal(tmp_path_factory.mktemp("proposal"))


def stack_json(outdir: Path, stack: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
    return document


def stacks(outdir: Path) -> list[str]:
    return sorted(path.name for path in (outdir / "stacks").iterdir())


def policies(outdir: Path, stack: str) -> dict[str, Policy]:
    """The policy files written next to `stack`, by deployment name."""
    files = sorted((outdir / "stacks" / stack).glob("*.policy.json"))
    return {path.name.removesuffix(".policy.json"): read_policy(path) for path in files}


def manifests(outdir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(stack, manifest) for every `kubernetes_manifest` in every stack."""
    for stack in stacks(outdir):
        for resource in (
            stack_json(outdir, stack)["resource"].get("kubernetes_manifest", {}).values()
        ):
            yield stack, resource["manifest"]
