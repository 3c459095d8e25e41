"""Cumulative counters turned into running totals that survive counter resets, and windows.

Each check adds, per series of counters (a version's sum, or one replica's counters of a
version), what they grew by since the last check (`raw` in the rollout state) to the
version's `totals`. A counter that went down (a gateway replica restarted, a bucket
layout changed) is a reset: that check's metric outcomes are errors, the new counters become
the base, and nothing is added, so totals never go down and the analyses' running tests stay
valid. A series seen for the first time becomes the base too: only traffic after the analysis
started counts. Trailing windows are the totals now minus the totals at the oldest kept check
inside the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tfprod.policy.rollout_state import FeedbackTotals, Totals, WindowPoint
from tfprod.runtime.analysis import Buckets, Moments, Proportion
from tfprod.runtime.controller.observation import VersionCounters


@dataclass(frozen=True, kw_only=True)
class Ingested:
    raw: dict[str, Totals]
    totals: dict[str, Totals]
    reset_reason: str
    """Non-empty when some counter went down at this check."""


def as_raw(counters: VersionCounters) -> Totals:
    """The counters in the state's form (latency as per-bucket counts)."""
    bounds: tuple[float, ...] = ()
    counts: tuple[float, ...] = ()
    if counters.latency is not None:
        bounds = counters.latency.upper_bounds
        cumulative = counters.latency.cumulative_counts
        counts = tuple(
            after - before for before, after in zip((0.0, *cumulative), cumulative, strict=False)
        )
    return Totals(
        requests=counters.requests,
        errors=counters.errors,
        latency_bounds=bounds,
        latency_counts=counts,
        feedback={
            event: FeedbackTotals(
                count=value.count, total=value.total, sum_of_squares=value.sum_of_squares
            )
            for event, value in counters.feedback.items()
        },
    )


def ingest(
    raw: Mapping[str, Totals],
    totals: Mapping[str, Totals],
    seen: Mapping[str, tuple[str, VersionCounters]],
) -> Ingested:
    """Add each series' growth since `raw` to its version's `totals`; a decrease is a reset
    (that series is rebased). `seen` is `Observation.counters()`."""
    new_raw = dict(raw)
    new_totals = dict(totals)
    resets: list[str] = []
    for key, (version, counters) in seen.items():
        current = as_raw(counters)
        before = raw.get(key)
        new_raw[key] = current
        if before is None:
            new_totals.setdefault(version, _zero_like(current))
            continue
        growth = _difference(current, before)
        if isinstance(growth, str):
            resets.append(f"{key} {growth}")
            continue
        new_totals[version] = _sum(new_totals.get(version, _zero_like(current)), growth)
    reason = ""
    if resets:
        reason = f"counter reset ({'; '.join(resets)}): this check's totals are rebased"
    return Ingested(raw=new_raw, totals=new_totals, reset_reason=reason)


def trailing(
    window: tuple[WindowPoint, ...],
    totals: Mapping[str, Totals],
    now: datetime,
    seconds: float,
    *,
    spacing: float = 0.0,
) -> tuple[tuple[WindowPoint, ...], dict[str, Totals]]:
    """The points to keep (covering `seconds` before now) and each version's window totals.

    The window starts at the oldest kept point no older than `seconds`; with none yet, the
    window is empty. A point is added only `spacing` seconds or more after the last one, so
    a controller looking every second keeps about `seconds / spacing` points in its status
    (the window then starts up to `spacing` later than `seconds` ago).
    """
    start = now - timedelta(seconds=seconds)
    kept = tuple(point for point in window if point.at >= start)
    if kept and (now - kept[-1].at).total_seconds() < spacing:
        base = kept[0].totals
        return kept, {
            version: _windowed(total, base.get(version, _zero_like(total)))
            for version, total in totals.items()
        }
    base = kept[0].totals if kept else dict(totals)
    windowed = {
        version: _windowed(total, base.get(version, _zero_like(total)))
        for version, total in totals.items()
    }
    return (*kept, WindowPoint(at=now, totals=dict(totals))), windowed


def _windowed(total: Totals, base: Totals) -> Totals:
    growth = _difference(total, base)
    return _zero_like(total) if isinstance(growth, str) else growth


def proportion_of_errors(total: Totals) -> Proportion:
    return Proportion(trials=total.requests, successes=total.errors)


def latency_buckets(total: Totals) -> Buckets | None:
    """The latency histogram in the analysis' form; None when the source exports none."""
    if not total.latency_counts:
        return None
    return Buckets(
        upper_bounds=(*total.latency_bounds, float("inf")),
        cumulative_counts=tuple(itertools.accumulate(total.latency_counts)),
    )


def feedback_moments(total: Totals, event: str) -> Moments:
    """One feedback event per answered request: count = attempts that did not fail."""
    value = total.feedback.get(event, FeedbackTotals())
    return Moments(
        count=total.requests - total.errors, total=value.total, sum_of_squares=value.sum_of_squares
    )


def feedback_rate(total: Totals, event: str) -> Proportion:
    """The share of answered requests followed by `event` (a click or a conversion)."""
    value = total.feedback.get(event, FeedbackTotals())
    return Proportion(trials=total.requests - total.errors, successes=value.count)


def _zero_like(total: Totals) -> Totals:
    return Totals(
        latency_bounds=total.latency_bounds,
        latency_counts=tuple(0.0 for _ in total.latency_counts),
    )


def _difference(after: Totals, before: Totals) -> Totals | str:
    """`after - before`, or what went down (a string) when some counter did."""
    if after.latency_bounds != before.latency_bounds and before.latency_counts:
        return "latency buckets changed"
    pairs = {"requests": (after.requests, before.requests), "errors": (after.errors, before.errors)}
    for name, (now, then) in pairs.items():
        if now < then:
            return f"{name} went down from {then:g} to {now:g}"
    if len(after.latency_counts) == len(before.latency_counts):
        latency = tuple(
            now - then
            for now, then in zip(after.latency_counts, before.latency_counts, strict=True)
        )
    else:
        latency = after.latency_counts
    if min(latency, default=0.0) < 0:
        return "latency bucket counts went down"
    feedback: dict[str, FeedbackTotals] = {}
    for event, now_value in after.feedback.items():
        then_value = before.feedback.get(event, FeedbackTotals())
        if (
            now_value.count < then_value.count
            or now_value.sum_of_squares < then_value.sum_of_squares
        ):
            return f"feedback {event} went down"
        feedback[event] = FeedbackTotals(
            count=now_value.count - then_value.count,
            total=now_value.total - then_value.total,
            sum_of_squares=now_value.sum_of_squares - then_value.sum_of_squares,
        )
    return Totals(
        requests=after.requests - before.requests,
        errors=after.errors - before.errors,
        latency_bounds=after.latency_bounds,
        latency_counts=latency,
        feedback=feedback,
    )


def _sum(total: Totals, growth: Totals) -> Totals:
    if total.latency_counts and len(total.latency_counts) == len(growth.latency_counts):
        latency = tuple(
            a + b for a, b in zip(total.latency_counts, growth.latency_counts, strict=True)
        )
    else:
        latency = growth.latency_counts
    events = set(total.feedback) | set(growth.feedback)
    feedback = {
        event: FeedbackTotals(
            count=total.feedback.get(event, FeedbackTotals()).count
            + growth.feedback.get(event, FeedbackTotals()).count,
            total=total.feedback.get(event, FeedbackTotals()).total
            + growth.feedback.get(event, FeedbackTotals()).total,
            sum_of_squares=total.feedback.get(event, FeedbackTotals()).sum_of_squares
            + growth.feedback.get(event, FeedbackTotals()).sum_of_squares,
        )
        for event in sorted(events)
    }
    return Totals(
        requests=total.requests + growth.requests,
        errors=total.errors + growth.errors,
        latency_bounds=growth.latency_bounds,
        latency_counts=latency,
        feedback=feedback,
    )
