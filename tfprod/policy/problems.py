"""Turning a pydantic `ValidationError` into the lines a user reads.

Constructs, the CLI and the runtime all report an invalid Policy (or a section of one) with
these lines: one per problem, `<field path>: <message>`. Two notations for the path, because
the user wrote the value in one of two places:

- `"props"`: a construct's keyword arguments, in Python: `triggers[0].condition`; `rename`
  maps a top-level policy field to the prop the user set (`treatment_percent` ->
  `traffic_split`); a problem of the whole value is `value`.
- `"document"`: a JSON file (a policy in `cdktf.out`, a mounted ConfigMap), as pydantic gives
  the path: `safety.triggers.0.condition`; a problem of the whole file is `(document)`.

pydantic's own messages ("Input should be ...") get the bad value appended when it is a number;
text is never repeated, as a value in the wrong field may be a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

Notation = Literal["props", "document"]
_OWN_ERROR = "invalid_policy"  # the type of `tfprod.policy._base.invalid`: worded with care


def validation_lines(
    error: ValidationError,
    *,
    notation: Notation = "props",
    rename: Mapping[str, str] | None = None,
) -> list[str]:
    """`<field path>: <message>` for each problem pydantic found (see the module docstring)."""
    return [
        f"{_path(detail['loc'], notation, rename)}: {detail['msg']}{_shown(detail)}"
        for detail in error.errors(include_url=False)
    ]


def file_problem(path: Path, error: ValidationError) -> str:
    """The one line a reader of the file at `path` reports: its first problem, with the file."""
    return f"{path}: {validation_lines(error, notation='document')[0]}"


def _path(loc: tuple[int | str, ...], notation: Notation, rename: Mapping[str, str] | None) -> str:
    if notation == "document":
        return ".".join(str(part) for part in loc) or "(document)"
    where = ""
    for part in loc:
        if isinstance(part, int):
            where += f"[{part}]"
        else:
            name = rename.get(part, part) if rename is not None and not where else part
            where += f".{name}" if where else name
    return where or "value"


def _shown(detail: Any) -> str:
    value = detail.get("input")
    if detail["type"] != _OWN_ERROR and isinstance(value, int | float):
        return f" (got {value!r})"
    return ""
