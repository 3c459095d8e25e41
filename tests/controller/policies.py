"""Policies and platforms the controller tests share."""

from __future__ import annotations

from typing import Any

from tests.controller.simulation import Fault, Platform, Profile
from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy

STABLE = "rec-v2.0.0"
CANARY = "rec-v2.1.0"
THREE_STEPS = [[5, "1m"], [25, "1m"], [50, "1m"]]


def canary_policy(
    *,
    steps: Any = None,
    criteria: dict[str, str] | None = None,
    triggers: dict[str, str] | None = None,
    controller: dict[str, Any] | None = None,
    **overrides: Any,
) -> Policy:
    """Stable rec-v2.0.0 and canary rec-v2.1.0 ramped 5, 25, 50% (1 minute each) by default."""
    document = minimal_policy(
        canary={
            "version": CANARY,
            "steps": steps or THREE_STEPS,
            "success_criteria": criteria or {},
        },
        **overrides,
    )
    if triggers is not None:
        document["safety"] = {"fallback_version": STABLE, "triggers": triggers}
    if controller is not None:
        document["controller"] = controller
    return Policy.model_validate(document)


def healthy(seed: int = 1, *faults: Fault, **options: Any) -> Platform:
    """Stable and canary alike (0.2% errors, 20 ms median), 200 requests per second."""
    return Platform(
        seed=seed, profiles={STABLE: Profile(), CANARY: Profile()}, faults=faults, **options
    )
