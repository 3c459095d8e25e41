"""Every optional prop of every construct says its default in the constructor's docstring."""

from __future__ import annotations

import inspect

import pytest

from tfprod.constructs import (
    ABTest,
    CanaryDeployment,
    DriftDetector,
    Gateway,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    ModelPlatformStack,
    ModelRegistry,
    RuntimeController,
    SafetyNet,
    ShadowTest,
)
from tfprod.stacks.cluster import ClusterModelPlatform

CONSTRUCTS = (
    ABTest,
    CanaryDeployment,
    ClusterModelPlatform,
    DriftDetector,
    Gateway,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    ModelPlatformStack,
    ModelRegistry,
    RuntimeController,
    SafetyNet,
    ShadowTest,
)


def _bullets(docstring: str) -> dict[str, str]:
    """`name` -> its text, for each "- `name`: ..." bullet (or a "`name`: ..." paragraph)."""
    result: dict[str, str] = {}
    current: str | None = None
    for line in docstring.splitlines():
        text = line.strip().removeprefix("- ")
        if text.startswith("`") and "`:" in text:
            current = text[1 : text.index("`:")]
            result[current] = text
        elif current is not None and text:
            result[current] += " " + text
        else:
            current = None
    return result


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda construct: construct.__name__)
def test_every_optional_prop_documents_its_default(construct: type) -> None:
    init = construct.__init__  # type: ignore[misc]
    bullets = _bullets(inspect.getdoc(init) or "")
    optional = [
        name
        for name, parameter in inspect.signature(init).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        and parameter.default is not inspect.Parameter.empty
    ]
    undocumented = [name for name in optional if "Default" not in bullets.get(name, "")]
    assert undocumented == []
