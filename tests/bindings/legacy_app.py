"""A small app built on tfprod's kubernetes bindings, run by test_legacy_cdktf.py in a venv
that has legacy `cdktf` core and no `cdktn`: `python legacy_app.py OUTDIR` synthesizes it
there and prints the stack's JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tfprod.bindings import _core
from tfprod.bindings.kubernetes.deployment_v1 import DeploymentV1
from tfprod.bindings.kubernetes.namespace_v1 import NamespaceV1
from tfprod.bindings.kubernetes.provider import KubernetesProvider


def build(stack: Any) -> None:
    KubernetesProvider(stack, "k8s", config_path="~/.kube/config")
    namespace = NamespaceV1(stack, "ns", metadata=[{"name": "models"}])
    DeploymentV1(
        stack,
        "model",
        metadata={"name": "model", "namespace": namespace.metadata.get(0).name},
        spec={
            "replicas": "2",
            "selector": {"match_labels": {"app": "model"}},
            "template": {
                "metadata": {"labels": {"app": "model"}},
                "spec": {"container": [{"name": "serving", "image": "tensorflow/serving"}]},
            },
        },
        lifecycle={"ignore_changes": ["spec[0].replicas"]},
    )


def main(outdir: str) -> None:
    app = _core.App(outdir=outdir)
    build(_core.TerraformStack(app, "legacy"))
    app.synth()
    sys.stdout.write(f"{_core.CORE_NAME}\n")
    sys.stdout.write((Path(outdir) / "stacks" / "legacy" / "cdk.tf.json").read_text())


if __name__ == "__main__":
    main(sys.argv[1])
