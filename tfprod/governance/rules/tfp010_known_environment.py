"""TFP010: every deployment's environment is known as production or as non-production.

Production rules apply only to the stack's production environments (see
`tfprod.governance.environments`); an environment in neither list, such as a misspelt
"prodution", would skip them without a word.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

LEVEL: Level = "warning"
TITLE = "environments are known production or non-production"


def check(view: StackView) -> Iterator[Hit]:
    known = view.environments
    for path, policy in sorted(view.policies.items()):
        environment = policy.environment
        if known.is_known(environment):
            continue
        close = difflib.get_close_matches(environment, (*known.production, *known.non_production))
        hint = f"did you mean {close[0]!r}? " if close else ""
        yield (
            path,
            f"environment {environment!r} of {policy.name!r} is neither production"
            f" ({', '.join(known.production)}) nor known non-production, so the production"
            f" rules skip it; {hint}name it as listed, or list it with"
            " configure_governance(stack, production_environments=[...]) or"
            " non_production_environments=[...]",
        )
