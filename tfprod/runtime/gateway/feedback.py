"""Joining business outcomes (`POST /v1/feedback`) to the request id and the variant served.

The gateway remembers which variant answered each of the last `window` request ids; feedback
for an id that is unknown or has left the window is counted as unmatched, never guessed.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

FEEDBACK_EVENTS = ("click", "conversion", "revenue")


class FeedbackError(ValueError):
    """A feedback body is malformed; the message names the field and shows the bad value."""


@dataclass(frozen=True, kw_only=True)
class FeedbackEvent:
    """`value` is 1 for a click or conversion unless given; revenue needs it."""

    request_id: str
    event: str
    value: float


def parse_feedback(data: object) -> FeedbackEvent:
    if not isinstance(data, dict):
        raise FeedbackError(f"feedback must be a JSON object, got {type(data).__name__}")
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise FeedbackError(f"request_id: must be a non-empty string, got {request_id!r:.60}")
    event = data.get("event")
    if event not in FEEDBACK_EVENTS:
        raise FeedbackError(
            f"event: must be one of {', '.join(FEEDBACK_EVENTS)}, got {event!r:.60}"
        )
    value = data.get("value", None if event == "revenue" else 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FeedbackError(f"value: must be a finite number for {event}, got {value!r:.60}")
    unknown = sorted(set(data) - {"request_id", "event", "value"})
    if unknown:
        raise FeedbackError(f"{unknown[0]}: unknown field; allowed: event, request_id, value")
    return FeedbackEvent(request_id=request_id, event=event, value=float(value))


class FeedbackJoin:
    """Remembers (model, variant) for the most recent `window` request ids."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.served: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def remember(self, request_id: str, model: str, variant: str) -> None:
        served = self.served
        served[request_id] = (model, variant)
        if len(served) > self.window:
            served.popitem(last=False)

    def lookup(self, request_id: str) -> tuple[str, str] | None:
        return self.served.get(request_id)
