"""Live weights (percent per version) after a step, a promotion or a rollback; always 100 in all.

Rounded to 0.0001 percent, with the remainder on the version that gives or takes, so weights
sum to 100 within the Policy's tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tfprod.policy import Policy

_DIGITS = 4


def declared_only(weights: Mapping[str, float], policy: Policy) -> dict[str, float]:
    """`weights` without versions the policy no longer declares; their share goes to stable."""
    declared = {version.id for version in policy.versions}
    kept = {version: weight for version, weight in weights.items() if version in declared}
    kept.setdefault(policy.stable.id, 0.0)
    return _balanced(kept, policy.stable.id)


def with_share(
    weights: Mapping[str, float], version: str, percent: float, taker: str
) -> dict[str, float]:
    """`version` at `percent`, taken from (or given back to) `taker`, never below 0.

    When `taker` has less than the step asks for, `version` gets what there is: shares never
    exceed 100 percent in all.
    """
    available = weights.get(version, 0.0) + weights.get(taker, 0.0)
    changed = dict(weights)
    changed[version] = round(min(percent, available), _DIGITS)
    changed[taker] = 0.0
    return _balanced(changed, taker)


def moved(
    weights: Mapping[str, float], versions: Iterable[str], to: str, keep: float = 0.0
) -> dict[str, float]:
    """Each of `versions` keeps `keep` (a fraction) of its share; `to` gets the rest."""
    changed = dict(weights)
    for version in versions:
        changed[version] = round(weights.get(version, 0.0) * keep, _DIGITS)
    changed.setdefault(to, 0.0)
    return _balanced(changed, to)


def _balanced(weights: dict[str, float], remainder: str) -> dict[str, float]:
    others = sum(weight for version, weight in weights.items() if version != remainder)
    weights[remainder] = round(100.0 - others, _DIGITS)
    return weights
