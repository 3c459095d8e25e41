"""`export(path)`: the session's declarations as a cdktn app built from `tfprod.constructs`.

The app declares every deployment of the session, with the construct calls its declarations
made, in a `ClusterModelPlatform` stack named `stack` whose registry is the session's (change
`REGISTRY` to the cluster's before deploying). Its synth gives the Policies the session ran
with. Writing it imports nothing of cdktn: the file is Python source.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tfprod.policy import ControllerSettings
from tfprod.production.declared import AutoScaling, Declared
from tfprod.production.errors import ProductionError
from tfprod.production.session import current

HEADER = '''"""The tfprod.production session's declarations as a cdktn app (by production.export).

Synthesize with `python {file}` (or `cdktf synth`), check with `tfprod validate cdktf.out` and
`tfprod review`, and deploy with `cdktf deploy`. REGISTRY is the registry the session used:
point it at the cluster's registry, holding the same versions, before deploying.
"""

from tfprod.constructs import (
{imports}
)
from tfprod.policy import ControllerSettings
from tfprod.stacks import ClusterModelPlatform

STACK = {stack!r}
REGISTRY = {registry!r}


def build(app: App) -> ClusterModelPlatform:
    """Every deployment of the session, in one stack."""
    stack = ClusterModelPlatform(app, STACK, registry_uri=REGISTRY)
'''
FOOTER = """    return stack


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
"""


def export(path: str | Path, *, stack: str = "notebook") -> Path:
    """Writes the session's declarations to `path` as a cdktn app; returns the path."""
    session = current()
    if not session.deployments:
        raise ProductionError("export: nothing declared yet; call production.deploy first")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", stack):
        raise ProductionError(
            f"export: stack {stack!r} is not valid; allowed: lower-case letters, digits and '-',"
            " starting with a letter"
        )
    kinds = {"App"} | {
        construct.kind
        for declared in session.deployments.values()
        for construct in declared.constructs
    }
    if any(declared.scaling is not None for declared in session.deployments.values()):
        kinds.add("AutoScaling")
    target = Path(path)
    lines = [
        HEADER.format(
            file=target.name,
            imports="".join(f"    {kind},\n" for kind in sorted(kinds)).rstrip("\n"),
            stack=stack,
            registry=session.registry_uri,
        )
    ]
    for declared in session.deployments.values():
        lines.append(_deployment(declared))
    lines.append(FOOTER)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines), encoding="utf-8")
    return target


def _deployment(declared: Declared) -> str:
    variable = declared.name.replace("-", "_")
    out = []
    for construct in declared.constructs:
        arguments = "".join(
            f"        {key}={_literal(value)},\n" for key, value in construct.kwargs.items()
        )
        if construct.kind == "ModelDeployment":
            out.append(
                f"    {variable} = ModelDeployment(\n        stack,\n        {construct.id!r},\n"
                f"{arguments}    )\n"
            )
        else:
            out.append(
                f"    {construct.kind}(\n        {variable},\n        {construct.id!r},\n"
                f"{arguments}    )\n"
            )
    return "".join(out)


def _literal(value: Any) -> str:
    if isinstance(value, AutoScaling):
        return repr(value)
    if isinstance(value, ControllerSettings):
        return f"ControllerSettings(**{value.model_dump(mode='json')!r})"
    return repr(value)
