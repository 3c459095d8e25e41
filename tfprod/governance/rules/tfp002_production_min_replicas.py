"""TFP002: every Deployment of a production model keeps at least two replicas.

With an autoscaler the HPA's `min_replicas` counts, else the Deployment's `replicas`
(Kubernetes' default is 1). One replica means every node drain or crash is an outage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tfprod.governance.findings import Hit, Level, Unresolved
from tfprod.governance.view import (
    AUTOSCALER_TYPES,
    DEPLOYMENT_TYPES,
    Resource,
    StackView,
    autoscaler_of,
    first_block,
    is_expression,
)

LEVEL: Level = "error"
TITLE = "production keeps at least 2 replicas per version"

MIN_REPLICAS = 2


def _replicas(value: Any) -> int:
    """The replica count; 1 (Kubernetes' default) when unset."""
    return 1 if value is None else int(value)


def _unknown_targets(view: StackView, autoscalers: list[Resource]) -> Iterator[Unresolved]:
    """Autoscalers whose target is an expression naming none of the stack's Deployments: the
    rule cannot tell which Deployment they scale, so which minimum applies."""
    addresses = [f"{deployment.address}." for deployment in view.of_type(*DEPLOYMENT_TYPES)]
    for scaler in autoscalers:
        target = first_block(scaler.body, "spec", "scale_target_ref")
        name = target.get("name")
        if (
            target.get("kind", "Deployment") == "Deployment"
            and is_expression(name)
            and not any(address in name for address in addresses)
        ):
            yield Unresolved(
                path=scaler.path, location="spec[0].scale_target_ref[0].name", value=name
            )


def check(view: StackView) -> Iterator[Hit]:
    autoscalers = list(view.of_type(*AUTOSCALER_TYPES))
    if any(view.production()):
        yield from _unknown_targets(view, autoscalers)
    for path, policy in view.production():
        for deployment in view.of_type(*DEPLOYMENT_TYPES):
            if not deployment.path.startswith(f"{path}/"):
                continue
            name = first_block(deployment.body, "metadata").get("name", deployment.name)
            scaler = autoscaler_of(deployment, autoscalers)
            if scaler is not None:
                owner, location = scaler, "spec[0].min_replicas"
                value = first_block(scaler.body, "spec").get("min_replicas")
            else:
                owner, location = deployment, "spec[0].replicas"
                value = first_block(deployment.body, "spec").get("replicas")
            if is_expression(value):
                yield Unresolved(path=owner.path, location=location, value=value)
                continue
            count = _replicas(value)
            if scaler is not None:
                what = f"its autoscaler {scaler.path!r} sets min_replicas {count}"
            else:
                what = f"it runs {count} replica{'' if count == 1 else 's'}"
            if count < MIN_REPLICAS:
                yield (
                    deployment.path,
                    f"Deployment {name!r} of production deployment {policy.name!r}: {what};"
                    f" production needs at least {MIN_REPLICAS} (AutoScaling(min_replicas=2)"
                    " or replicas=2) so one pod can fail or drain",
                )
