"""Kubernetes names and labels shared by the constructs (conventions in one place)."""

from __future__ import annotations

import re

from tfprod import policy

DNS_1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_1035_RULE = (
    "a DNS-1035 label: 1 to 63 lower-case letters, digits or '-', starting with a letter and"
    " ending with a letter or digit"
)
MAX_NAME = 63
PART_OF = "tfprod"
MANAGED_BY = "terraform"
ROLE_LABEL = "tfprod.dev/role"
DEPLOYMENT_LABEL = policy.DEPLOYMENT_LABEL  # readers of synthesized stacks look for it too


def slug(version_id: str) -> str:
    """A version id as it appears in Kubernetes names: lower case, '.' and '_' become '-'."""
    return version_id.lower().replace(".", "-").replace("_", "-")


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
