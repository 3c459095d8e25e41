"""The Policy document a declaration makes: the one spelling that `ModelDeployment` (at synth)
and `tfprod.production` (in a session) share, so a session exported as a stack synthesizes the
Policy it ran with."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tfprod.policy.versions import artifact_uri


def declared_document(
    *,
    name: str,
    namespace: str,
    environment: str,
    model: str,
    registry: str,
    stable: str,
    roles: Mapping[str, str],
    weights: Mapping[str, float],
    controller: Any,
    sections: Mapping[str, Any],
    sticky: Any = None,
) -> dict[str, Any]:
    """The Policy document (before validation) of deployment `name`: `roles` maps each version
    to its role, `weights` the non-stable versions to their share (the stable version takes
    the rest), `sections` the Policy's optional sections by name. Default `sticky`: none."""
    shares = {stable: 100 - math.fsum(weights.values()), **weights}
    document: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "environment": environment,
        "model": model,
        "versions": [
            {"id": version, "artifact": artifact_uri(registry, model, version), "role": role}
            for version, role in roles.items()
        ],
        "traffic": {"weights": {key: round(value, 2) for key, value in shares.items()}},
        "controller": controller,
    }
    if sticky is not None:
        document["traffic"]["sticky"] = sticky
    document.update(sections)
    return document
