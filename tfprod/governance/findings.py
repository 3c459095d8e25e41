"""What a governance rule reports, and how a finding is waived."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
