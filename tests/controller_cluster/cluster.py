"""A synthesized cluster stack run on loopback: its manifests' command lines, real processes.

Read from the synthesized Terraform JSON: the controller's and the gateway's Deployments (their
container args and volume mounts), and each deployment's policy and endpoints ConfigMaps. The
mounts are laid out under a temporary root in the same layout (`<root>/etc/tfprod/policies/...`,
`<root>/var/run/secrets/tfprod/...`), and what only exists in a cluster is replaced, value for
value, by its loopback stand-in (`loopback_args`): the mount paths by their copies under the
root, the Prometheus service by a real Prometheus on loopback scraping the real gateways, the
model server Services by real `tfprod serve` processes, `0.0.0.0` and the container ports by
127.0.0.1 and free ports. The pod's service account (in-cluster API host, token and CA, fixed
paths the `kubernetes` package reads) cannot be faked without a real pod, so the two flags the
CLI has for running outside a pod (`--kubernetes-api`, `--kubernetes-token-file`) point at the
stand-in API server (`tests/kube/fake_apiserver.py`, NOT a real Kubernetes API server).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tfprod.policy.synthesized import SynthesizedStack


def blocks(value: Any) -> list[dict[str, Any]]:
    """A Terraform JSON nested block, written as one object or as a list of them."""
    if isinstance(value, list):
        return [block for block in value if isinstance(block, dict)]
    return [value] if isinstance(value, dict) else []


def resource_named(stack: SynthesizedStack, kind: str, name: str) -> dict[str, Any]:
    """The `kind` resource whose `metadata.name` is `name`; AssertionError if none or several."""
    found: list[dict[str, Any]] = [
        resource
        for resource in (stack.document().get("resource", {}).get(kind) or {}).values()
        if any(block.get("name") == name for block in blocks(resource.get("metadata")))
    ]
    assert len(found) == 1, f"{len(found)} {kind} named {name!r} in {stack.document_path}"
    return found[0]


def container(stack: SynthesizedStack, deployment: str) -> dict[str, Any]:
    """The one container of the Kubernetes Deployment `deployment`."""
    resource = resource_named(stack, "kubernetes_deployment_v1", deployment)
    (spec,) = blocks(resource["spec"])
    (template,) = blocks(spec["template"])
    (pod,) = blocks(template["spec"])
    (only,) = blocks(pod["container"])
    return only


def config_map_data(stack: SynthesizedStack, name: str) -> dict[str, str]:
    data: dict[str, str] = resource_named(stack, "kubernetes_config_map_v1", name)["data"]
    return data


def mount_paths(container: Mapping[str, Any]) -> list[str]:
    return [mount["mount_path"] for mount in blocks(container.get("volume_mount"))]


def under(root: Path, path: str) -> Path:
    """`path`, an absolute path in the container, under `root`."""
    return root / path.lstrip("/")


def loopback_args(args: Sequence[str], replacements: Mapping[str, str]) -> list[str]:
    """`args` with every value in `replacements` replaced; AssertionError if one is unused
    (the manifest changed: the test must say how its new value runs on loopback)."""
    unused = set(replacements) - set(args)
    assert not unused, f"not in the manifest's args {list(args)}: {sorted(unused)}"
    return [replacements.get(arg, arg) for arg in args]


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
