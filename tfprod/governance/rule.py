"""What a governance rule is: an id, a level and a pure check over one synthesized stack."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tfprod.governance.findings import Finding, Hit, Level, Unresolved
from tfprod.governance.view import StackView


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
