"""The errors constructs raise, worded `<construct path>: <field>: <problem>; allowed: ...`."""

from __future__ import annotations

from tfprod.bindings._core import Construct


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
