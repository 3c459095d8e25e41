"""The policies of the stack `tfprod up` runs, read with `tfprod.policy.synthesized`."""

from __future__ import annotations

from pathlib import Path

from tfprod.policy import Policy
from tfprod.policy.synthesized import SynthesizedError, deployed_stack, read_synthesized

__all__ = ["SynthesizedError", "stack_policies"]


def stack_policies(outdir: Path, stack: str | None) -> list[Policy]:
    """The policies of `stack` in the synthesized `outdir`; with `stack` left out, of the one
    stack that has policies (see `deployed_stack`). Raises SynthesizedError."""
    return deployed_stack(read_synthesized(outdir), stack).policies()
