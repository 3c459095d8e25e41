"""The small languages users write inside a policy, parsed by hand (never `eval`).

Conditions, for safety triggers and success criteria::

    condition := metric op number [unit]    e.g. "error_rate > 5%", "latency_p95 > 200ms"
    criterion := op number [unit]           short form keyed by metric: {"error_rate": "< 1%"}
    op        := "<" | "<=" | ">" | ">=" | "==" | "!="
    unit      := "%" | "ms" | "s"

Thresholds are normalised: "%" becomes a ratio (5% -> 0.05, unit "ratio"), "ms" and "s"
become seconds (100ms -> 0.1, unit "seconds"). A number without a unit is a ratio for ratio
metrics (error_rate 0.05), and a plain number otherwise (drift_score 0.2, unit "number").
Latency metrics need a time unit; error_rate and prediction_confidence take "%" or a ratio
from 0 to 1; drift_score and request rates take a plain number; any other metric name is a
custom (business) metric and takes any unit.

Durations: a number and one unit, ms, s, m, h or d ("1h", "30m", "10s", "14d", "1.5h"),
giving seconds.

Ramp schedules, giving canary steps (percent of traffic, seconds held) from a start percent:

    linear_<N>_<unit>           10 equal steps from the start to 100%, over N units in all
                                ("linear_10_minutes": start 5 -> 5, 14.5, ... 90.5, 1 minute each)
    exponential_<N>_<unit>      start, doubling while under 100%, the N units shared equally
                                ("exponential_30_minutes": start 5 -> 5, 10, 20, 40, 80, 6 min each)
    linear_<K>_steps_<duration> K equal steps from the start, each held <duration>
                                ("linear_5_steps_2m": start 5 -> 5, 24, 43, 62, 81, 2 minutes each)

where unit is seconds, minutes or hours (singular too), and N and K are 1 to 1000. After the
last step the canary is promoted to 100%. Weights are rounded to 0.01 percent.
"""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import model_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.errors import PolicyError

Op = Literal["<", "<=", ">", ">=", "==", "!="]
Unit = Literal["ratio", "seconds", "number"]
OPS: tuple[str, ...] = get_args(Op)
_OPS: dict[str, Op] = {op: op for op in get_args(Op)}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

# Which written units each known metric takes; "" is a bare number. Others are custom metrics.
_RATIO = ("%", "")
_LATENCY = ("ms", "s")
_PLAIN = ("",)
KNOWN_METRICS: dict[str, tuple[str, ...]] = {
    "error_rate": _RATIO,
    "prediction_confidence": _RATIO,
    "latency_p50": _LATENCY,
    "latency_p90": _LATENCY,
    "latency_p95": _LATENCY,
    "latency_p99": _LATENCY,
    "drift_score": _PLAIN,
    "throughput": _PLAIN,
    "requests_per_second": _PLAIN,
}
_KIND_OF: dict[tuple[str, ...], Unit] = {_RATIO: "ratio", _LATENCY: "seconds", _PLAIN: "number"}
CONDITION_UNITS: tuple[str, ...] = ("%", "ms", "s")
DURATION_UNITS: dict[str, float] = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
RAMP_UNITS: dict[str, float] = {
    "second": 1,
    "seconds": 1,
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
}
LINEAR_STEPS = 10
MAX_RAMP_COUNT = 1000
RAMP_FORMS = "linear_<N>_<unit>, exponential_<N>_<unit>, linear_<K>_steps_<duration>"


class Condition(PolicyModel):
    """A metric compared with a threshold, e.g. error_rate > 0.05 (written "error_rate > 5%")."""

    metric: str
    op: Op
    threshold: float
    """Normalised: a ratio (0.05 for 5%), seconds (0.1 for 100ms), or a plain number."""
    unit: Unit

    @model_validator(mode="after")
    def _check_metric(self) -> Condition:
        if not is_metric_name(self.metric):
            raise invalid(
                f"invalid metric name {self.metric!r}: use letters, digits and '_', starting"
                " with a letter"
            )
        written = KNOWN_METRICS.get(self.metric)
        expected = _KIND_OF.get(written) if written is not None else None
        if expected is not None and self.unit != expected:
            raise invalid(f"{self.metric} is measured as {expected!r}, not {self.unit!r}")
        return self

    def holds(self, observed: float) -> bool:
        """Whether an observed value (in this condition's unit) satisfies the comparison."""
        return _COMPARE[self.op](observed, self.threshold)

    def __str__(self) -> str:
        if self.unit == "ratio":
            value = f"{self.threshold * 100:g}%"
        elif self.unit == "seconds":
            value = f"{self.threshold * 1000:g}ms" if self.threshold < 1 else f"{self.threshold:g}s"
        else:
            value = f"{self.threshold:g}"
        return f"{self.metric} {self.op} {value}"


_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
_NAME_START = _LETTERS | {"_"}
_NAME_CHARS = _NAME_START | _DIGITS
_NUMBER_CHARS = _DIGITS | {"."}


@dataclass(frozen=True, kw_only=True)
class _Token:
    kind: Literal["name", "number", "op", "percent", "end"]
    text: str
    column: int
    """1-based column of the token's first character in the text."""


def _tokenize(text: str, what: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        start = index
        if char.isspace():
            index += 1
            continue
        if char in _NAME_START:
            while index < len(text) and text[index] in _NAME_CHARS:
                index += 1
            kind: Literal["name", "number", "op", "percent"] = "name"
        elif char in string.digits or (char in "-." and text[index + 1 : index + 2] in _DIGITS):
            index += 1
            while index < len(text) and text[index] in _NUMBER_CHARS:
                index += 1
            kind = "number"
        elif char in "<>=!":
            # A whole run of operator characters is one token, so ">>" is reported as such.
            while index < len(text) and text[index] in "<>=!":
                index += 1
            kind = "op"
        elif char == "%":
            index += 1
            kind = "percent"
        else:
            raise PolicyError(
                f"invalid {what} {text!r}: unexpected character {char!r} at column {start + 1}"
            )
        tokens.append(_Token(kind=kind, text=text[start:index], column=start + 1))
    tokens.append(_Token(kind="end", text="", column=len(text) + 1))
    return tokens


class _Parser:
    """Recursive descent over the tokens of one condition, criterion or duration."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text, what)
        self.position = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        self.position += 1
        return token

    def error(self, expected: str, after: _Token | None) -> PolicyError:
        where = f" after {after.text!r}" if after is not None else ""
        return PolicyError(
            f"invalid {self.what} {self.text!r}: expected {expected}{where}"
            f" at column {self.current.column}"
        )

    def metric(self) -> _Token:
        if self.current.kind != "name":
            raise self.error("a metric name", None)
        return self.advance()

    def op(self, after: _Token | None) -> _Token:
        if self.current.kind != "op" or self.current.text not in OPS:
            raise self.error(f"one of {', '.join(OPS)}", after)
        return self.advance()

    def number(self, after: _Token | None) -> tuple[_Token, float]:
        token = self.current
        if token.kind != "number" or token.text.count(".") > 1 or token.text.endswith("."):
            raise self.error("a number", after)
        value = float(token.text)
        if not math.isfinite(value):
            raise self.error("a number of usual size", after)
        self.advance()
        return token, value

    def unit(self, after: _Token, allowed: tuple[str, ...]) -> str:
        """The written unit after a number, "" for none; only units in `allowed` are taken."""
        token = self.current
        if token.kind == "percent" or (token.kind == "name" and token.text in allowed):
            if token.text not in allowed:
                raise self.error(f"one of {', '.join(allowed)}", after)
            self.advance()
            return token.text
        if token.kind == "name":
            raise self.error(f"one of {', '.join(allowed)}", after)
        return ""

    def end(self, after: _Token) -> None:
        if self.current.kind != "end":
            raise self.error("the end", after)


def parse_condition(text: str) -> Condition:
    """Parse "metric op number[unit]", e.g. "latency_p95 > 200ms", into a normalised Condition."""
    parser = _Parser(text, "condition")
    metric = parser.metric()
    return _rest_of_condition(parser, metric.text, metric)


def parse_criterion(metric: str, text: str) -> Condition:
    """Parse the short form keyed by metric, e.g. ("error_rate", "< 1%"), into a Condition."""
    if not is_metric_name(metric):
        raise PolicyError(
            f"invalid metric name {metric!r}: use letters, digits and '_', starting with a letter"
        )
    parser = _Parser(text, f"criterion for {metric}")
    return _rest_of_condition(parser, metric, None)


def _rest_of_condition(parser: _Parser, metric: str, metric_token: _Token | None) -> Condition:
    op = parser.op(metric_token)
    number_token, value = parser.number(op)
    unit = parser.unit(number_token, CONDITION_UNITS)
    parser.end(parser.tokens[parser.position - 1])
    allowed = KNOWN_METRICS.get(metric, (*CONDITION_UNITS, ""))
    prefix = f"invalid {parser.what} {parser.text!r}"
    if unit not in allowed:
        shown = " or ".join(
            "a plain number" if written == "" else repr(written) for written in allowed
        )
        got = repr(unit) if unit else "a plain number"
        raise PolicyError(f"{prefix}: {metric} takes {shown}, not {got}")
    if metric in KNOWN_METRICS and allowed == _RATIO:
        if unit == "" and not 0 <= value <= 1:
            raise PolicyError(
                f"{prefix}: {metric} is a ratio; a number without % must be from 0 to 1"
                f" (write {value:g}% for percent)"
            )
        if unit == "%" and not 0 <= value <= 100:
            raise PolicyError(f"{prefix}: {metric} is a ratio; a percentage must be 0 to 100")
    return Condition(
        metric=metric,
        op=_OPS[op.text],
        threshold=_normalise(value, unit),
        unit=_unit_kind(metric, unit),
    )


def _unit_kind(metric: str, unit: str) -> Unit:
    """What a normalised threshold measures; a bare number is a ratio for ratio metrics."""
    if unit == "%" or (unit == "" and KNOWN_METRICS.get(metric) == _RATIO):
        return "ratio"
    return "seconds" if unit in ("ms", "s") else "number"


def _normalise(value: float, unit: str) -> float:
    if unit == "%":
        return value / 100
    if unit == "ms":
        return value / 1000
    return value


def is_metric_name(name: str) -> bool:
    """Whether `name` is a metric or feature name: ASCII letters, digits and '_', letter first."""
    return name[:1] in _LETTERS and all(char in _NAME_CHARS for char in name)


def parse_duration(text: str) -> float:
    """Parse "1h", "30m", "10s", "14d", "250ms" or "1.5h" into seconds (greater than 0)."""
    parser = _Parser(text, "duration")
    number_token, value = parser.number(None)
    units = tuple(DURATION_UNITS)
    unit = parser.unit(number_token, units)
    if not unit:
        raise parser.error(f"one of {', '.join(units)}", number_token)
    parser.end(parser.tokens[parser.position - 1])
    if value <= 0:
        raise PolicyError(f"invalid duration {text!r}: must be greater than zero")
    return value * DURATION_UNITS[unit]


def parse_percent(text: str) -> float:
    """Parse a written percentage, "5%" or "12.5 %", into its number of percent (5.0).

    The "%" is required, so a string is never mistaken for a fraction ("0.1" or "10%"?)."""
    parser = _Parser(text, "percentage")
    number_token, value = parser.number(None)
    if parser.current.kind != "percent":
        raise parser.error("'%'", number_token)
    parser.end(parser.advance())
    return value


def ramp_steps(schedule: str, start_percent: float) -> tuple[tuple[float, float], ...]:
    """The (percent, seconds held) steps a named ramp schedule gives from `start_percent`.

    The vocabulary is in this module's docstring.
    """
    if not (math.isfinite(start_percent) and 0 < start_percent < 100):
        raise PolicyError(
            f"invalid ramp start {start_percent:g}%: a canary starts above 0 and below 100 percent"
        )
    words = schedule.split("_")
    shape, count_word = words[0], words[1] if len(words) > 1 else ""
    if shape not in ("linear", "exponential"):
        raise _ramp_error(schedule, "'linear' or 'exponential'", 1)
    count_column = len(shape) + 2
    if not (count_word and set(count_word) <= _DIGITS and 0 < int(count_word) <= MAX_RAMP_COUNT):
        raise _ramp_error(
            schedule, f"a whole number from 1 to {MAX_RAMP_COUNT} after '{shape}_'", count_column
        )
    count = int(count_word)
    rest_column = count_column + len(count_word) + 1
    if shape == "linear" and len(words) == 4 and words[2] == "steps":
        try:
            hold = parse_duration(words[3])
        except PolicyError:
            raise _ramp_error(
                schedule, "a duration like 2m after 'steps_'", rest_column + len("steps_")
            ) from None
        return _linear(start_percent, count, hold)
    if len(words) != 3 or words[2] not in RAMP_UNITS:
        raise _ramp_error(
            schedule, f"one of {', '.join(RAMP_UNITS)} after '{shape}_{count}_'", rest_column
        )
    total = count * RAMP_UNITS[words[2]]
    if shape == "linear":
        return _linear(start_percent, LINEAR_STEPS, total / LINEAR_STEPS)
    weights = [start_percent]
    while weights[-1] * 2 < 100:
        weights.append(weights[-1] * 2)
    return tuple((round(float(weight), 2), total / len(weights)) for weight in weights)


def _linear(start: float, steps: int, hold: float) -> tuple[tuple[float, float], ...]:
    return tuple((round(start + (100 - start) * k / steps, 2), hold) for k in range(steps))


def _ramp_error(schedule: str, expected: str, column: int) -> PolicyError:
    return PolicyError(
        f"invalid ramp schedule {schedule!r}: expected {expected} at column {column};"
        f" allowed forms: {RAMP_FORMS}"
    )
