"""Reading props that have a written form: percentages given as 5 or "5%" alike."""

from __future__ import annotations

from tfprod.bindings._core import Construct
from tfprod.constructs.errors import construct_error
from tfprod.policy import PolicyError, parse_percent

PERCENT_FORMS = "a number of percent such as 5, or a string such as '5%'"
FRACTION_FORMS = "a fraction such as 0.1, or a percentage string such as '10%'"


def percent_prop(construct: Construct, field: str, value: object) -> float:
    """A prop in percent: a number as given, or a string such as "5%" read as 5."""
    return _number(construct, field, value, PERCENT_FORMS, per_percent=1.0)


def fraction_prop(construct: Construct, field: str, value: object) -> float:
    """A prop that is a fraction: a number as given, or a string such as "10%" read as 0.1."""
    return _number(construct, field, value, FRACTION_FORMS, per_percent=0.01)


def _number(
    construct: Construct, field: str, value: object, allowed: str, *, per_percent: float
) -> float:
    if isinstance(value, str):
        try:
            return parse_percent(value) * per_percent
        except PolicyError as error:
            raise construct_error(construct, field, str(error), allowed) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise construct_error(construct, field, f"{value!r} is not a number", allowed)
    return float(value)
