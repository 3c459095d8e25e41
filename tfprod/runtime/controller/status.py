"""The part of a deployment's status document `decide` reads and writes.

It mirrors `tfprod.policy.status.DeploymentStatus` (generation, weights, policy_digest,
rollout), which replaces it once both are merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfprod.policy.rollout_state import RolloutState


@dataclass(frozen=True, kw_only=True)
class ControllerStatus:
    """Live weights (percent per version), their generation, and the rollout state."""

    generation: int
    weights: dict[str, float]
    policy_digest: str
    rollout: RolloutState = field(default_factory=RolloutState)
