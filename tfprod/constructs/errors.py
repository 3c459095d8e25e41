"""The errors constructs raise, worded `<construct path>: <field>: <problem>; allowed: ...`.

Run by `tfprod synth` (which sets `DECLARATION_ERRORS_VARIABLE`), an app that dies of a
`ConstructError` writes the error's lines to the file that variable names instead of printing
a traceback; `tfprod synth` shows them as they are, one per problem, and exits 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

from tfprod.bindings._core import Construct
from tfprod.policy.synthesized import DECLARATION_ERRORS_VARIABLE


class ConstructError(ValueError):
    """A construct was given a bad value; raised in its constructor, before synth."""


class SynthError(ConstructError):
    """A check across constructs failed while the app synthesized."""


def problem(construct: Construct, field: str, text: str, allowed: str | None = None) -> str:
    """The one-line message: construct path, field, problem, and what is allowed if known."""
    suffix = f"; allowed: {allowed}" if allowed is not None else ""
    return f"{construct.node.path}: {field}: {text}{suffix}"


def construct_error(
    construct: Construct, field: str, text: str, allowed: str | None = None
) -> ConstructError:
    """A ConstructError for `field` of `construct` (see `problem` for the wording)."""
    return ConstructError(problem(construct, field, text, allowed))


def _report_declaration_errors(report: Path) -> None:
    """Make an uncaught ConstructError write its lines to `report` instead of a traceback."""
    previous = sys.excepthook

    def hook(
        kind: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        if isinstance(error, ConstructError):
            report.write_text(f"{error}\n", encoding="utf-8")
        else:
            previous(kind, error, traceback)

    sys.excepthook = hook


if os.environ.get(DECLARATION_ERRORS_VARIABLE):
    _report_declaration_errors(Path(os.environ[DECLARATION_ERRORS_VARIABLE]))
