"""TFP011: a fallback or A/B challenger version is not a typo of another version.

`SafetyNet(fallback_model=...)` and `ABTest(model_b=...)` add a version they name that no
other construct declares: a typo such as `fallback_model="rec-v2.0"` next to `rec-v2.0.0`
deploys a version of its own that takes traffic on rollback (or in the A/B test). The close
matches come from `difflib.get_close_matches` over the deployment's other versions; a match
that differs only in numbers (`rec-v1.9.0` next to `rec-v2.0.0`) is another release, not a
typo, and passes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

LEVEL: Level = "warning"
TITLE = "fallback and challenger versions are not typos of other versions"

_NAMED_BY = {
    "fallback": ("SafetyNet fallback_model", "on rollback"),
    "challenger": ("ABTest model_b", "in the A/B test"),
}
_NUMBERS = re.compile(r"\d+")


def _release_of_same_line(version: str, other: str) -> bool:
    """True when the two ids differ only in their numbers (`rk-1` and `rk-2`)."""
    return _NUMBERS.sub("0", version) == _NUMBERS.sub("0", other) and len(
        _NUMBERS.findall(version)
    ) == len(_NUMBERS.findall(other))


def _shared_start(one: str, other: str) -> int:
    """How many leading characters the two ids share."""
    return next(
        (index for index, (a, b) in enumerate(zip(one, other, strict=False)) if a != b),
        min(len(one), len(other)),
    )


def _likely_meant(version: str, others: list[str]) -> str | None:
    """The other version `version` most likely misspells, or None.

    Ties in similarity go to the longer shared beginning: `rec-v2.0` is as close to
    `rec-v2.1.0` as to `rec-v2.0.0`, and a typo more often cuts an id short than changes it.
    """
    close = [
        match
        for match in difflib.get_close_matches(version, others, n=len(others))
        if not _release_of_same_line(version, match)
    ]
    if not close:
        return None
    return max(
        close,
        key=lambda match: (
            difflib.SequenceMatcher(None, version, match).ratio(),
            _shared_start(version, match),
        ),
    )


def check(view: StackView) -> Iterator[Hit]:
    for path, policy in sorted(view.policies.items()):
        for version in policy.versions:
            if version.role not in _NAMED_BY:
                continue
            others = [item.id for item in policy.versions if item.id != version.id]
            meant = _likely_meant(version.id, others)
            if meant is None:
                continue
            named_by, when = _NAMED_BY[version.role]
            yield (
                path,
                f"{version.role} version {version.id!r} of {policy.name!r} is named only by"
                f" {named_by} and looks like a typo of {meant!r}; it is deployed as a"
                f" version of its own and takes traffic {when}. Name {meant!r} if that was"
                " meant, or suppress TFP011 saying why both versions exist",
            )
