"""Which environments count as production: a stack setting with defaults for the usual names.

Production rules (TFP001-TFP003) apply to a deployment whose `environment` is in the stack's
production set; an environment in neither set gets a TFP010 warning, since a misspelt
"production" would otherwise skip every production rule silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfprod.governance.findings import GovernanceError

DEFAULT_PRODUCTION_ENVIRONMENTS = ("production", "prod", "prd", "live")
"""Environments that count as production unless the stack says otherwise."""
DEFAULT_NON_PRODUCTION_ENVIRONMENTS = (
    "staging",
    "stage",
    "stg",
    "preprod",
    "uat",
    "qa",
    "test",
    "testing",
    "dev",
    "development",
    "sandbox",
    "preview",
    "demo",
    "ci",
    "local",
)
"""Environments known not to be production unless the stack says otherwise."""
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_RULE = "lower-case DNS-1123 labels, as a policy's environment is"


@dataclass(frozen=True, kw_only=True)
class Environments:
    """The stack's production and known non-production environment names."""

    production: tuple[str, ...] = DEFAULT_PRODUCTION_ENVIRONMENTS
    non_production: tuple[str, ...] = DEFAULT_NON_PRODUCTION_ENVIRONMENTS

    def is_production(self, environment: str) -> bool:
        return environment in self.production

    def is_known(self, environment: str) -> bool:
        return environment in self.production or environment in self.non_production


def check_environments(field: str, names: object) -> tuple[str, ...]:
    """`names` as a tuple of environment names; GovernanceError naming `field` if unusable."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise GovernanceError(f"{field} {names!r} is not valid; allowed: a list of {_LABEL_RULE}")
    listed = tuple(names)
    bad = [name for name in listed if not isinstance(name, str) or not _LABEL.fullmatch(name)]
    if bad or not listed:
        shown = repr(bad[0]) if bad else "an empty list"
        raise GovernanceError(f"{field}: {shown} is not valid; allowed: {_LABEL_RULE}")
    return listed


def environments_from(settings: Mapping[str, Any]) -> Environments:
    """The environments recorded in a stack's governance settings.

    A set left out defaults to its default list less the names the other set claims, so
    `production_environments=["staging", ...]` alone is enough to call staging production.
    """
    production = settings.get("production_environments")
    non_production = settings.get("non_production_environments")
    if production is not None and non_production is not None:
        check_disjoint(
            check_environments("production_environments", production),
            check_environments("non_production_environments", non_production),
        )
    if production is None:
        production = _without(DEFAULT_PRODUCTION_ENVIRONMENTS, non_production)
    if non_production is None:
        non_production = _without(DEFAULT_NON_PRODUCTION_ENVIRONMENTS, production)
    return Environments(
        production=check_environments("production_environments", production),
        non_production=check_environments("non_production_environments", non_production),
    )


def check_disjoint(production: Iterable[str], non_production: Iterable[str]) -> None:
    """GovernanceError when an environment is listed as production and as non-production."""
    both = sorted(set(production) & set(non_production))
    if both:
        raise GovernanceError(
            f"environment {both[0]!r} is listed both as production and as non-production;"
            " list it in one of production_environments and non_production_environments"
        )


def _without(defaults: tuple[str, ...], claimed: object) -> tuple[str, ...]:
    if claimed is None:
        return defaults
    taken = set(check_environments("environments", claimed))
    return tuple(name for name in defaults if name not in taken)
