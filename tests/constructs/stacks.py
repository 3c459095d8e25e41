"""Stacks the construct tests share: the proposal's own example, and reading synthesized JSON.

Regenerate the whole-stack snapshot after an intended change with:

    python -m tests.constructs.stacks tests/constructs/snapshots/proposal.tf.json
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from examples.recommendation_system import declare_engine
from tfprod.constructs import App, ModelDeployment
from tfprod.stacks.cluster import ClusterModelPlatform

STACK = "recommendations"
REGISTRY = "s3://ml-models/registry"


def proposal(app: App) -> ModelDeployment:
    """The proposal's example as written there, on a cluster-only platform."""
    stack = ClusterModelPlatform(app, STACK, registry_uri=REGISTRY, namespace="ml")
    return declare_engine(stack, reference_data="s3://training-data/features.parquet")


def synthesized(outdir: Path, stack: str = STACK) -> dict[str, Any]:
    """The synthesized Terraform JSON of `stack` under `outdir`."""
    document: dict[str, Any] = json.loads(
        (outdir / "stacks" / stack / "cdk.tf.json").read_text(encoding="utf-8")
    )
    return document


def by_name(document: dict[str, Any], tf_type: str) -> dict[str, dict[str, Any]]:
    """Resources of `tf_type`, keyed by their Kubernetes `metadata.name`."""
    result: dict[str, dict[str, Any]] = {}
    for resource in document.get("resource", {}).get(tf_type, {}).values():
        metadata = resource["metadata"]
        metadata = metadata[0] if isinstance(metadata, list) else metadata
        result[metadata["name"]] = resource
    return result


def declared_objects(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(resource type or manifest kind, name) of every Kubernetes object Terraform declares."""
    result: set[tuple[str, str]] = set()
    for tf_type, resources in document.get("resource", {}).items():
        for resource in resources.values():
            if tf_type == "kubernetes_manifest":
                manifest = resource["manifest"]
                result.add((manifest["kind"], manifest["metadata"]["name"]))
            else:
                metadata = resource["metadata"]
                metadata = metadata[0] if isinstance(metadata, list) else metadata
                result.add((tf_type, metadata["name"]))
    return result


def portable(document: dict[str, Any]) -> dict[str, Any]:
    """`document` without what depends on the machine: cdktn's default local backend records
    the state file's absolute path, under the directory synthesis ran in."""
    document = copy.deepcopy(document)
    local = document.get("terraform", {}).get("backend", {}).get("local", {})
    if "path" in local:
        local["path"] = Path(local["path"]).name
    return document


def synth_proposal(outdir: Path) -> dict[str, Any]:
    app = App(outdir=str(outdir))
    proposal(app)
    app.synth()
    return synthesized(outdir)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        document = portable(synth_proposal(Path(directory)))
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    Path(sys.argv[1]).write_text(text, encoding="utf-8")
