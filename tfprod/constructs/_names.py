"""Kubernetes labels the constructs put on what they declare (conventions in one place).

The name rules and tfprod's own label keys live in `tfprod.policy.names`, where the runtime
and the CLI read them too.
"""

from __future__ import annotations

from tfprod.policy.names import DEPLOYMENT_LABEL, ROLE_LABEL, dns_name

__all__ = ["DEPLOYMENT_LABEL", "MANAGED_BY", "PART_OF", "ROLE_LABEL", "labels", "selector", "slug"]

PART_OF = "tfprod"
MANAGED_BY = "terraform"


def slug(version_id: str) -> str:
    """A version id as it appears in Kubernetes names (`tfprod.policy.names.dns_name`)."""
    return dns_name(version_id)


def labels(
    *, name: str, instance: str, component: str, version: str | None = None
) -> dict[str, str]:
    """The recommended `app.kubernetes.io/*` labels, with keys in a stable order."""
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
    }
    if version is not None:
        result["app.kubernetes.io/version"] = version
    result.update(
        {
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }
    )
    return result


def selector(name: str, instance: str) -> dict[str, str]:
    """The labels a workload's selector matches: the ones that never change over its life."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance}
