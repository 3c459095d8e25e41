"""Field types that accept the proposal's written forms and store one canonical form."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from tfprod.policy._base import invalid
from tfprod.policy.errors import PolicyError
from tfprod.policy.expressions import Condition, parse_condition, parse_duration, parse_percent


def _written(value: Any, parse: Callable[[str], Any]) -> Any:
    """`parse(value)` for a written form (a string), with its PolicyError as the field's error;
    any other value as it is."""
    if not isinstance(value, str):
        return value
    try:
        return parse(value)
    except PolicyError as error:
        raise invalid(str(error)) from None


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        return _written(value, parse_duration)
    if isinstance(value, bool) or (
        isinstance(value, int | float) and not (math.isfinite(value) and value > 0)
    ):
        raise invalid(f"duration {value!r} is not valid: give seconds above 0, or e.g. '30m'")
    return value


def _condition(value: Any) -> Any:
    return _written(value, parse_condition)


Seconds = Annotated[
    float,
    BeforeValidator(_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "description": "a number and one of ms, s, m, h, d"},
            ]
        }
    ),
]
"""A duration in seconds; also accepts "1h", "30m", "10s", "14d", "250ms"."""

ConditionField = Annotated[
    Condition, BeforeValidator(_condition, json_schema_input_type=Condition | str)
]
"""A Condition; also accepts its written form, e.g. "error_rate > 5%"."""


def _percent_text(value: Any) -> Any:
    return _written(value, parse_percent)


def _percent(value: float) -> float:
    if not (math.isfinite(value) and 0 < value <= 100):
        raise invalid(f"percent {value:g} is not valid: give above 0 and at most 100")
    return value


Percent = Annotated[
    float,
    BeforeValidator(_percent_text),
    AfterValidator(_percent),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                {"type": "string", "description": "a number and %, e.g. '5%'"},
            ]
        }
    ),
]
"""A share of traffic in percent, above 0 and at most 100; also accepts "5%"."""
