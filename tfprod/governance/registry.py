"""The governance rules, discovered from the modules under `rules/`, in id order.

A rule module is named `tfpNNN_<what>.py`; its id is `TFPNNN`. It defines `LEVEL` (error or
warning), `TITLE` (what it asks for, in a few words) and `check(view)`, which yields a
(construct path, message) pair per problem, or an `Unresolved` value. Adding a rule is adding
its module: nothing else lists it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType
from typing import get_args

from tfprod.governance import rules
from tfprod.governance.findings import Level
from tfprod.governance.rule import Rule

_MODULE_NAME = re.compile(r"tfp(\d{3})_[a-z0-9_]+")


def _rule(module: ModuleType, number: str) -> Rule:
    level, title, check = (getattr(module, name, None) for name in ("LEVEL", "TITLE", "check"))
    levels: tuple[Level, ...] = get_args(Level)
    known = next((item for item in levels if item == level), None)
    if known is None or not isinstance(title, str) or not callable(check):
        raise TypeError(
            f"governance rule module {module.__name__} needs LEVEL (one of"
            f" {', '.join(levels)}), TITLE (a string) and check(view)"
        )
    return Rule(id=f"TFP{number}", level=known, title=title, check=check)


def discover(package: ModuleType) -> tuple[Rule, ...]:
    """The rule of every module in `package`, in id order; TypeError for a module that is
    not a rule, so a misnamed file fails loudly instead of never running."""
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda item: item.name):
        matched = _MODULE_NAME.fullmatch(info.name)
        if matched is None:
            raise TypeError(
                f"{package.__name__}.{info.name} is not named like a governance rule"
                " (tfpNNN_<what>.py)"
            )
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(_rule(module, matched.group(1)))
    return tuple(found)


RULES: tuple[Rule, ...] = discover(rules)
"""Every rule, in id order."""


def rule_ids() -> tuple[str, ...]:
    """The id of every registered rule, in order."""
    return tuple(rule.id for rule in RULES)
