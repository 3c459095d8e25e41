"""TFP002: every Deployment of a production model keeps at least two replicas.

With an autoscaler the HPA's `min_replicas` counts, else the Deployment's `replicas`
(Kubernetes' default is 1). One replica means every node drain or crash is an outage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tfprod.constructs.governance.findings import Hit, Rule
from tfprod.constructs.governance.view import Resource, StackView, blocks, is_reference

MIN_REPLICAS = 2
DEPLOYMENT_TYPES = ("kubernetes_deployment", "kubernetes_deployment_v1")
AUTOSCALER_TYPES = (
    "kubernetes_horizontal_pod_autoscaler",
    "kubernetes_horizontal_pod_autoscaler_v1",
    "kubernetes_horizontal_pod_autoscaler_v2",
    "kubernetes_horizontal_pod_autoscaler_v2beta2",
)


def _first(body: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """The first block down `keys`, or {} when one is missing."""
    current: Mapping[str, Any] = body
    for key in keys:
        found = blocks(current.get(key))
        if not found:
            return {}
        current = found[0]
    return current


def _targets(autoscaler: Resource, deployment: Resource) -> bool:
    target = _first(autoscaler.body, "spec", "scale_target_ref")
    if target.get("kind", "Deployment") != "Deployment":
        return False
    name = str(target.get("name", ""))
    if is_reference(name):
        return f"{deployment.address}." in name
    return name == _first(deployment.body, "metadata").get("name")


def _replicas(value: Any) -> int | None:
    """The replica count, 1 (Kubernetes' default) when unset, None when only known at apply."""
    if value is None:
        return 1
    if isinstance(value, str) and is_reference(value):
        return None
    return int(value)


def _check(view: StackView) -> Iterator[Hit]:
    autoscalers = list(view.of_type(*AUTOSCALER_TYPES))
    for path, policy in view.production():
        for deployment in view.of_type(*DEPLOYMENT_TYPES):
            if not deployment.path.startswith(f"{path}/"):
                continue
            name = _first(deployment.body, "metadata").get("name", deployment.name)
            scaler = next((hpa for hpa in autoscalers if _targets(hpa, deployment)), None)
            if scaler is not None:
                count = _replicas(_first(scaler.body, "spec").get("min_replicas"))
                what = f"its autoscaler {scaler.path!r} sets min_replicas {count}"
            else:
                count = _replicas(_first(deployment.body, "spec").get("replicas"))
                what = f"it runs {count} replica{'' if count == 1 else 's'}"
            if count is not None and count < MIN_REPLICAS:
                yield (
                    deployment.path,
                    f"Deployment {name!r} of production deployment {policy.name!r}: {what};"
                    f" production needs at least {MIN_REPLICAS} (AutoScaling(min_replicas=2)"
                    " or replicas=2) so one pod can fail or drain",
                )


RULE = Rule(
    id="TFP002",
    level="error",
    title="production keeps at least 2 replicas per version",
    check=_check,
)
