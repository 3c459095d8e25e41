"""A parser for the subset of the Prometheus text format (0.0.4) that the gateway writes.

The runtime image has no prometheus_client (it is a test dependency), so the direct source
reads `/metrics` with this: `# HELP` / `# TYPE` comments and `name{label="value",...} value`
lines, label values escaped as the format says (backslash, double quote, newline), values
that are floats or `NaN` / `+Inf` / `-Inf`, and an optional timestamp, which is ignored.
The tests check it against prometheus_client's parser on a real gateway's output.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|(?=}))')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf, "Inf": math.inf}


class ExpositionError(ValueError):
    """A line that is not in the text format; the message names the line."""


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One sample: its full name (with `_bucket`, `_sum`, ... suffixes), labels and value."""

    name: str
    labels: Mapping[str, str]
    value: float


def parse_exposition(text: str) -> Iterator[Sample]:
    """Every sample in `text`; raises ExpositionError naming the first bad line."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            yield _sample(stripped)
        except ValueError as error:
            raise ExpositionError(f"line {number}: {error}: {line[:200]!r}") from None


def _sample(line: str) -> Sample:
    name = _NAME.match(line)
    if name is None:
        raise ValueError("no metric name")
    rest = line[name.end() :]
    labels: dict[str, str] = {}
    if rest.startswith("{"):
        position = 1
        while not rest.startswith("}", position):
            label = _LABEL.match(rest, position)
            if label is None:
                raise ValueError("bad label")
            labels[label.group(1)] = re.sub(
                r"\\.", lambda m: _UNESCAPE.get(m.group(0), m.group(0)), label.group(2)
            )
            position = label.end()
        rest = rest[position + 1 :]
    fields = rest.split()
    if not rest[:1].isspace() or len(fields) not in (1, 2):
        raise ValueError("expected a value after the name and labels")
    return Sample(name=name.group(0), labels=labels, value=_value(fields[0]))


def _value(text: str) -> float:
    if text in _VALUES:
        return _VALUES[text]
    return float(text)
