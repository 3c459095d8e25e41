"""Finding the policies a synthesis wrote next to its stacks in `cdktf.out`."""

from __future__ import annotations

import json
from pathlib import Path

from tfprod.policy import Policy, read_policy

POLICY_GLOB = "*.policy.json"


class SynthesizedError(Exception):
    """The synthesized output holds no runnable stack by that name; the message says why."""


def stack_policies(outdir: Path, stack: str | None) -> list[Policy]:
    """The policies of `stack` in the synthesized `outdir` (its manifest names the stacks).

    With `stack` left out, the one stack that has policies is taken; when several have, the
    error lists them."""
    manifest_path = outdir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except OSError:
        raise SynthesizedError(
            f"no synthesized stacks in {outdir}: {manifest_path} is missing; run `tfprod synth`"
        ) from None
    except ValueError as error:
        raise SynthesizedError(f"{manifest_path} is not JSON: {error}") from None
    directories = {
        name: outdir / entry["workingDirectory"]
        for name, entry in sorted(manifest.get("stacks", {}).items())
    }
    with_policies = {
        name: sorted(directory.glob(POLICY_GLOB))
        for name, directory in directories.items()
        if any(directory.glob(POLICY_GLOB))
    }
    if stack is None:
        if len(with_policies) != 1:
            found = ", ".join(with_policies) or "none"
            raise SynthesizedError(
                f"name the stack to run; stacks with model deployments in {outdir}: {found}"
            )
        stack = next(iter(with_policies))
    if stack not in directories:
        raise SynthesizedError(
            f"no stack {stack!r} in {outdir}; stacks: {', '.join(directories) or 'none'}"
        )
    if stack not in with_policies:
        raise SynthesizedError(f"stack {stack!r} declares no model deployment")
    return [read_policy(path) for path in with_policies[stack]]
