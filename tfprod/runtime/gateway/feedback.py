"""Counting business outcomes (`POST /v1/feedback`) for the variant that served the request.

A feedback event names a request id. The gateway's own ids are signed and name their model
and variant (see `request_ids`), so any replica with the same key attributes them, and forged
or altered ids are refused. Each (request id, event) pair counts once: a replay is refused.

The dedup window holds the pairs counted in the last `MAX_AGE_SECONDS` (24 hours), at most
`size` of them (the gateway's `feedback_window`, 100,000 by default). Feedback for an id
issued more than `MAX_AGE_SECONDS` ago (or more than `CLOCK_SKEW_SECONDS` in the future) is
refused as expired, and so, once the window is full and drops its oldest pairs, is feedback
for any id issued no later than the dropped ones: a pair is forgotten only when its id can no
longer count, so no replay is ever counted twice on one replica.

The window is per replica, so each event is counted by the replica that issued its id: an id
naming another replica as its owner is relayed there (`owner_elsewhere`, `feedback_relay`),
and only a relayed event, or one whose owner cannot be reached, is counted where it arrived.

Ids that callers chose themselves (their `X-Request-Id`) count only on routes whose Policy
says `feedback.client_request_ids`; only they still need the in-memory join of the answering
replica's last `feedback_window` requests, and each of their events also counts once.

Values are bounded and finite: a click or conversion is 0 or 1 (default 1), revenue is in
[0, `MAX_REVENUE`]; anything else is refused with 400 naming the field.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from tfprod.runtime.gateway.request_ids import RequestIds

FEEDBACK_EVENTS = ("click", "conversion", "revenue")
BINARY_EVENTS = ("click", "conversion")
MAX_REVENUE = 1_000_000.0
MAX_AGE_SECONDS = 86_400
CLOCK_SKEW_SECONDS = 300
MAX_REQUEST_ID_CHARS = 512


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
    if len(request_id) > MAX_REQUEST_ID_CHARS:
        raise FeedbackError(
            f"request_id: must be at most {MAX_REQUEST_ID_CHARS} characters, got {len(request_id)}"
        )
    event = data.get("event")
    if event not in FEEDBACK_EVENTS:
        raise FeedbackError(
            f"event: must be one of {', '.join(FEEDBACK_EVENTS)}, got {event!r:.60}"
        )
    value = data.get("value", None if event == "revenue" else 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FeedbackError(f"value: must be a finite number for {event}, got {value!r:.60}")
    if event in BINARY_EVENTS and value not in (0, 1):
        raise FeedbackError(f"value: must be 0 or 1 for {event}, got {value!r:.60}")
    if event == "revenue" and not 0 <= value <= MAX_REVENUE:
        raise FeedbackError(f"value: must be in [0, {MAX_REVENUE:.0f}] for revenue, got {value:g}")
    unknown = sorted(set(data) - {"request_id", "event", "value"})
    if unknown:
        raise FeedbackError(f"{unknown[0]}: unknown field; allowed: event, request_id, value")
    return FeedbackEvent(request_id=request_id, event=event, value=float(value))


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """Why an event does not count: `reason` labels the metric, `status` and `message` the
    answer."""

    reason: str
    status: int
    message: str


def _duplicate(request_id: str, event: str) -> Refusal:
    return Refusal(
        reason="duplicate",
        status=409,
        message=f"request_id {request_id!r:.160}: {event} was already counted",
    )


class DedupWindow:
    """The (request id, event) pairs of signed ids counted recently (see the module docstring)."""

    def __init__(self, size: int, max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        self.size = size
        self.max_age = max_age_seconds
        self.counted: OrderedDict[tuple[str, str], int] = OrderedDict()
        self.horizon = -math.inf
        """Ids issued at or before this second may have been forgotten, so they no longer count."""

    def admit(self, request_id: str, event: str, issued: int, now: float) -> Refusal | None:
        """Records the pair and returns None if it may count now, else why not."""
        shown = f"request_id {request_id!r:.160}"
        if not now - self.max_age <= issued <= now + CLOCK_SKEW_SECONDS or issued <= self.horizon:
            return Refusal(
                reason="expired",
                status=400,
                message=f"{shown} has expired: ids count for {self.max_age:g} s after they are"
                f" issued ({CLOCK_SKEW_SECONDS} s of clock skew allowed), and only while the"
                f" last {self.size} counted events are remembered",
            )
        key = (request_id, event)
        if key in self.counted:
            return _duplicate(request_id, event)
        counted = self.counted
        counted[key] = issued
        while counted and next(iter(counted.values())) < now - self.max_age:
            counted.popitem(last=False)  # expired anyway: refused by age from now on
        while len(counted) > self.size:
            _, dropped = counted.popitem(last=False)
            self.horizon = max(self.horizon, dropped)
        return None


class ClientIdJoin:
    """For callers' own ids: (model, variant, events counted) of the last `window` ids."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.served: OrderedDict[str, tuple[str, str, set[str]]] = OrderedDict()

    def remember(self, request_id: str, model: str, variant: str) -> None:
        served = self.served
        served[request_id] = (model, variant, set())
        if len(served) > self.window:
            served.popitem(last=False)

    def lookup(self, request_id: str) -> tuple[str, str, set[str]] | None:
        return self.served.get(request_id)


class FeedbackBook:
    """Decides which variant a feedback event counts for, or why it does not count."""

    def __init__(self, ids: RequestIds, *, window: int, client_ids: bool) -> None:
        self.ids = ids
        self.dedup = DedupWindow(window)
        self.join = ClientIdJoin(window)
        self.client_ids = client_ids
        """Whether any route accepts callers' own ids."""

    def owner_elsewhere(self, request_id: str) -> str | None:
        """The base URL of the other replica that issued `request_id`, if it names one."""
        if not RequestIds.looks_signed(request_id):
            return None
        signed = self.ids.verify(request_id)
        owner = None if signed is None else signed.owner
        return None if owner == self.ids.owner else owner

    def attribute(self, event: FeedbackEvent, now: float) -> tuple[str, str] | Refusal:
        """(model, variant) the event counts for on this replica, or the refusal."""
        request_id = event.request_id
        if RequestIds.looks_signed(request_id):
            signed = self.ids.verify(request_id)
            if signed is None:
                return Refusal(
                    reason="forged",
                    status=400,
                    message=f"request_id {request_id!r:.160} is not signed by this gateway's"
                    " feedback key (forged, altered, or issued with another key)",
                )
            refusal = self.dedup.admit(request_id, event.event, signed.issued, now)
            return refusal or (signed.model, signed.variant)
        if not self.client_ids:
            return Refusal(
                reason="unsigned",
                status=400,
                message=f"request_id {request_id!r:.160} is not a request id this gateway"
                " issued: send the X-Tfprod-Feedback-Id of the answer (callers' own ids"
                " count only where the Policy sets feedback.client_request_ids)",
            )
        served = self.join.lookup(request_id)
        if served is None:
            return Refusal(
                reason="unmatched",
                status=404,
                message=f"unknown request_id {request_id!r:.160}: not served by this gateway or"
                f" older than its last {self.join.window} requests",
            )
        model, variant, counted = served
        if event.event in counted:
            return _duplicate(request_id, event.event)
        counted.add(event.event)
        return model, variant
