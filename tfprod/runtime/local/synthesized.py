"""The policies and declared reference profiles of the stack `tfprod up` runs, read with
`tfprod.policy.synthesized`."""

from __future__ import annotations

from pathlib import Path

from tfprod.policy import Policy
from tfprod.policy.synthesized import SynthesizedError, deployed_stack, read_synthesized

__all__ = ["SynthesizedError", "stack_policies", "stack_profiles"]


def stack_policies(outdir: Path, stack: str | None) -> list[Policy]:
    """The policies of `stack` in the synthesized `outdir`; with `stack` left out, of the one
    stack that has policies (see `deployed_stack`). Raises SynthesizedError."""
    return deployed_stack(read_synthesized(outdir), stack).policies()


def stack_profiles(outdir: Path, stack: str | None) -> dict[str, str]:
    """The reference profiles (JSON) that `DriftDetector`s of `stack` declared, by deployment
    name; deployments without one are left out. Raises SynthesizedError."""
    found = deployed_stack(read_synthesized(outdir), stack)
    profiles = {policy.name: found.profile(policy.name) for policy in found.policies()}
    return {name: text for name, text in profiles.items() if text is not None}
