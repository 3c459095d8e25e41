"""TFP006: every container requests CPU and memory.

Without requests the scheduler reserves nothing, pods land on full nodes, and a CPU-based
autoscaler has no baseline to compute utilization from. Init containers count too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tfprod.governance.findings import Hit, Level, Unresolved
from tfprod.governance.view import StackView, blocks, is_expression

LEVEL: Level = "error"
TITLE = "containers request CPU and memory"

CONTAINER_KEYS = ("container", "init_container", "containers", "initContainers")
REQUIRED = ("cpu", "memory")


def _requests(container: Mapping[str, Any]) -> Mapping[str, Any] | str:
    """The container's requests: a mapping, or the expression standing for them."""
    for resources in blocks(container.get("resources")):
        found = resources.get("requests")
        if isinstance(found, Mapping) or is_expression(found):
            return found
    return {}


def check(view: StackView) -> Iterator[Hit]:
    for resource in view.resources:
        for location, key, value in resource.entries:
            if key not in CONTAINER_KEYS:
                continue
            if is_expression(value):
                yield Unresolved(path=resource.path, location=location, value=value)
                continue
            listed = blocks(value)
            for index, container in enumerate(listed):
                if "image" not in container:
                    continue
                where = f"{location}[{index}]" if isinstance(value, list) else location
                requests = _requests(container)
                if isinstance(requests, str):
                    yield Unresolved(
                        path=resource.path, location=f"{where}.resources.requests", value=requests
                    )
                    continue
                missing = [name for name in REQUIRED if not requests.get(name)]
                if missing:
                    yield (
                        resource.path,
                        f"container {container.get('name', '?')!r} ({where}) requests no"
                        f" {' and no '.join(missing)}; set resources.requests"
                        f" {{{', '.join(repr(name) + ': ...' for name in REQUIRED)}}}",
                    )
