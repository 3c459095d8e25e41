"""What a governance rule is, what it reports, and how a finding is waived."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tfprod.governance.view import StackView

Level = Literal["error", "warning"]
"""error: synth fails; warning: synth prints it and goes on."""


@dataclass(frozen=True, kw_only=True)
class Unresolved:
    """A value a rule needs but cannot know from the synthesized JSON (a `${...}` expression).

    Reported as a warning under the rule's own id, never passed silently: the rule could not
    show the stack complies, so a reviewer must (or a suppression says why it is fine).
    """

    path: str
    """The construct path of the resource holding the value."""
    location: str
    """Where in the resource, e.g. `spec[0].replicas`."""
    value: str


Hit = tuple[str, str] | Unresolved
"""What a rule's check yields: (construct path, message), or a value it cannot resolve."""


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
    """Stable id, e.g. "TFP001", from the rule's module name; suppressions name it."""
    level: Level
    title: str
    """What the rule asks for, in a few words (shown in reviews)."""
    check: Callable[[StackView], Iterable[Hit]]

    def run(self, view: StackView) -> list[Finding]:
        """The findings of this rule on `view`, in the order the check yields them."""
        return [self._finding(hit) for hit in self.check(view)]

    def _finding(self, hit: Hit) -> Finding:
        if isinstance(hit, Unresolved):
            return Finding(
                rule=self.id,
                level="warning",
                path=hit.path,
                message=(
                    f"{hit.location} is {hit.value!r}, known only at apply time, so {self.id}"
                    f" ({self.title}) cannot check it; write the value literally, or suppress"
                    f" {self.id} here saying why it holds"
                ),
            )
        path, message = hit
        return Finding(rule=self.id, level=self.level, path=path, message=message)


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
