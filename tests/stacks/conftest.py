"""Platform stacks synthesized into a temporary directory, read back as Terraform JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tfprod.bindings._core import App, Construct
from tfprod.constructs import ModelDeployment, ModelPlatformStack

Synth = Callable[[Callable[[App], ModelPlatformStack]], dict[str, Any]]


@pytest.fixture
def synth(tmp_path: Path) -> Synth:
    """Build one stack with a model deployment `rec` in it, synthesize, return its JSON."""

    def run(build: Callable[[App], ModelPlatformStack]) -> dict[str, Any]:
        app = App(outdir=str(tmp_path / "cdktf.out"))
        stack = build(app)
        add_deployment(stack)
        app.synth()
        path = tmp_path / "cdktf.out" / "stacks" / stack.node.id / "cdk.tf.json"
        result: dict[str, Any] = json.loads(path.read_text())
        return result

    return run


def add_deployment(scope: Construct) -> ModelDeployment:
    return ModelDeployment(
        scope, "rec", name="rec", model="rec", version="rec-v1", environment="staging"
    )


def resources(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    """The `kind` resources by construct id, without cdktn's `//` metadata."""
    return {name: _bare(body) for name, body in stack["resource"][kind].items()}


def data(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    """The `kind` data sources by construct id, without cdktn's `//` metadata."""
    return {name: _bare(body) for name, body in stack["data"][kind].items()}


def service_account_annotations(stack: dict[str, Any]) -> dict[str, Any]:
    """Each Kubernetes service account's annotations, by its name."""
    accounts = stack["resource"]["kubernetes_service_account_v1"].values()
    return {
        account["metadata"]["name"]: account["metadata"].get("annotations") for account in accounts
    }


def _bare(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "//"}
