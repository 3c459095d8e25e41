"""TFP005: every container image is pinned by a tag other than `latest`, or by a digest.

`:latest` and untagged images change under a running deployment: two pods of one version may
run different code, and a rollback does not return to what was tested.
"""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level, Unresolved
from tfprod.governance.view import StackView, is_expression

LEVEL: Level = "error"
TITLE = "images are pinned (no :latest, no untagged)"


def image_problem(image: str) -> str | None:
    """Why `image` is not pinned, or None when it is."""
    if "@sha256:" in image:
        return None
    name = image.rsplit("/", 1)[-1]
    _, colon, tag = name.partition(":")
    if not colon:
        return "has no tag, so it means :latest"
    if tag == "latest":
        return "uses the :latest tag"
    return None


def check(view: StackView) -> Iterator[Hit]:
    for resource in view.resources:
        for location, key, value in resource.entries:
            if key != "image" or not isinstance(value, str):
                continue
            if is_expression(value):
                yield Unresolved(path=resource.path, location=location, value=value)
                continue
            problem = image_problem(value)
            if problem is not None:
                yield (
                    resource.path,
                    f"{location} {value!r} {problem}; pin a version tag (e.g."
                    " 'tensorflow/serving:2.19.0') or a digest ('...@sha256:<digest>')",
                )
