"""What a governance rule is, what it reports, and how a finding is waived."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tfprod.constructs.governance.view import StackView

Level = Literal["error", "warning"]
"""error: synth fails; warning: synth prints it and goes on."""

Hit = tuple[str, str]
"""What a rule's check yields: (construct path, message)."""


class GovernanceError(ValueError):
    """A suppression or governance setting is malformed."""


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One rule broken at one construct path."""

    rule: str
    level: Level
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.rule} {self.path}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A governance rule: a pure check over one synthesized stack, with its id and level."""

    id: str
    """Stable id, e.g. "TFP001"; suppressions name it."""
    level: Level
    title: str
    """What the rule asks for, in a few words (shown in reviews)."""
    check: Callable[[StackView], Iterable[Hit]]

    def run(self, view: StackView) -> list[Finding]:
        """The findings of this rule on `view`, in the order the check yields them."""
        return [
            Finding(rule=self.id, level=self.level, path=path, message=message)
            for path, message in self.check(view)
        ]


@dataclass(frozen=True, kw_only=True)
class Suppression:
    """Waive `rule` for the construct at `path` and everything under it, for `reason`."""

    path: str
    rule: str
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise GovernanceError(
                f"{self.path}: suppression of {self.rule} has no reason; say why the rule does"
                " not apply here"
            )

    def covers(self, finding: Finding) -> bool:
        """True when this suppression waives `finding`."""
        return finding.rule == self.rule and (
            finding.path == self.path or finding.path.startswith(f"{self.path}/")
        )
