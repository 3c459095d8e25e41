"""TF Serving's REST URL grammar, shared by the model server and the gateway.

`/v1/models/NAME[/versions/N|/labels/L]:predict|classify|regress` (POST) and
`/v1/models[/NAME[/versions/N|/labels/L][/metadata]]` (GET), matched case-insensitively with
TF Serving's own patterns on the raw (still percent-encoded) path. Names and labels come back
decoded; a version is its digits, left for each side to convert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

VERBS: tuple[str, ...] = ("predict", "classify", "regress")
_PREDICTION = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE,
)
_STATUS = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, kw_only=True)
class ModelPath:
    """What a TF Serving REST path addresses.

    `name` is empty for `GET /v1/models`; `version` is the digits of `/versions/N`; `verb` is
    set on prediction paths as written (TF Serving matches the path case-insensitively but
    then knows only the lower-case verbs), `metadata` on `.../metadata`."""

    name: str
    version: str | None = None
    label: str | None = None
    verb: str | None = None
    metadata: bool = False


def _path(match: re.Match[str], *, verb: str | None, metadata: bool) -> ModelPath:
    label = match.group(3)
    return ModelPath(
        name=unquote(match.group(1) or ""),
        version=match.group(2),
        label=unquote(label) if label else None,
        verb=verb,
        metadata=metadata,
    )


def parse_prediction_path(path: str) -> ModelPath | None:
    """The target of a POST path, or None when it is not a prediction path."""
    match = _PREDICTION.fullmatch(path)
    if match is None:
        return None
    return _path(match, verb=match.group(4), metadata=False)


def parse_status_path(path: str) -> ModelPath | None:
    """The target of a GET path (status or metadata), or None when it is not one."""
    match = _STATUS.fullmatch(path)
    if match is None:
        return None
    return _path(match, verb=None, metadata=match.group(4) is not None)
