"""Each check of one tick, its four outcomes, and the counters that give each outcome its limit.

- pass: the check holds; a canary steps up only when its hold has passed and every gate passes.
- fail: the check is broken; its action (rollback, pause, alert) comes after
  `failure_threshold` consecutive failing checks.
- inconclusive: too few samples (no data); it holds the rollout, and a gate inconclusive for
  `no_data_bound_seconds` in a row rolls it back.
- error: the metric source failed, or a counter reset; it holds the rollout, and a gate in
  error for `no_data_bound_seconds` in a row rolls it back (the controller is blind: the safe
  side is the fallback, and a rollback needs no metrics).

Gates are the checks a rollout must pass (the data check, canary criteria, the A/B test);
triggers are the safety net's conditions on every watched version, and only their fail outcome
acts. A trigger on a rate (error_rate, a latency quantile: the share of requests slower than
its threshold) is a sequential test (`tfprod.runtime.analysis.crossing`) on the requests since
each of its last looks, run every `TRIGGER_INTERVAL_SECONDS` (`tfprod.policy.safety`): it
fails, and acts at once, when the evidence shows the rate past the threshold. Otherwise it is
the evaluation window's value against the threshold (inconclusive under `min_samples`
requests), and a window failing at every look for `failure_threshold` check intervals acts
too: a backstop for a fault too small to be shown within a window of requests. Any other
trigger (throughput, business metrics such as click_rate from the feedback counters, "==" or
"!=") compares the evaluation window's value with its threshold and acts after
`failure_threshold` failing checks in a row. Feedback comes after its request, so a business
trigger's window lags its requests by the feedback delay; a "<" trigger on one (click_rate <
1%) is best given a window much longer than that delay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tfprod.policy import ABTest, Condition, ControllerSettings, Trigger
from tfprod.policy.observe import FEEDBACK_MEANS, FEEDBACK_RATES
from tfprod.policy.rollout_state import CheckState, Totals
from tfprod.runtime.analysis import (
    ABResult,
    ABState,
    Arms,
    Moments,
    Outcome,
    Proportion,
    analyse,
    count_above,
    crossing,
    judge,
    quantile,
)
from tfprod.runtime.analysis.canary import QUANTILE_LEVELS
from tfprod.runtime.controller.totals import (
    feedback_moments,
    feedback_rate,
    latency_buckets,
    proportion_of_errors,
)

RATE_EVENTS: Mapping[str, str] = FEEDBACK_RATES
"""Metrics read as the share of answered requests followed by a feedback event."""
VALUE_EVENTS: Mapping[str, str] = {"revenue": "revenue", **FEEDBACK_MEANS}
"""Metrics read as the mean feedback value per answered request."""
AB_METRICS: tuple[str, ...] = ("error_rate", *RATE_EVENTS, *VALUE_EVENTS)
TRIGGER_ALPHA = 0.001
"""At one look, the most a sequential trigger on a version at its threshold may be shown past it."""
OBSERVED_TRIGGER_METRICS: tuple[str, ...] = (
    "error_rate",
    *QUANTILE_LEVELS,
    "throughput",
    "requests_per_second",
    *RATE_EVENTS,
    *FEEDBACK_MEANS,
)


@dataclass(frozen=True, kw_only=True)
class Found:
    """What one check found at this tick."""

    outcome: Outcome
    reason: str
    analysis: dict[str, Any] | None = None
    at_once: bool = False
    """A fail that acts at once: a sequential trigger shown past its threshold."""


def advance(check: CheckState, found: Found, now: datetime) -> CheckState:
    """The check's counters after one more outcome."""
    failing = found.outcome is Outcome.FAIL
    return check.model_copy(
        update={
            "outcome": found.outcome.value,
            "checked_at": now,
            "reason": found.reason,
            "consecutive_fails": check.consecutive_fails + 1 if failing else 0,
            "inconclusive_since": (check.inconclusive_since or now)
            if found.outcome is Outcome.INCONCLUSIVE
            else None,
            "error_since": (check.error_since or now) if found.outcome is Outcome.ERROR else None,
            "acted": check.acted and found.outcome.value == check.outcome,
            "analysis": found.analysis if found.analysis is not None else check.analysis,
        }
    )


def data_check(
    versions: tuple[str, ...], window: Mapping[str, Totals], settings: ControllerSettings
) -> Found:
    """Each version under test has `min_samples` requests in the evaluation window."""
    short = [
        f"{version} has {window.get(version, Totals()).requests:g}"
        for version in versions
        if window.get(version, Totals()).requests < settings.min_samples
    ]
    if short:
        return Found(
            outcome=Outcome.INCONCLUSIVE,
            reason=f"no data: {', '.join(short)} requests in the last"
            f" {settings.evaluation_window_seconds:g} s, needs {settings.min_samples}",
        )
    return Found(outcome=Outcome.PASS, reason=f"{settings.min_samples}+ requests per version")


def trigger_check(
    trigger: Trigger,
    *,
    window: Totals,
    total: Totals,
    analysis: Mapping[str, Any] | None,
    settings: ControllerSettings,
    lookback: int,
) -> Found:
    """A trigger's condition on one version: fail when it holds (see the module doc).

    `window` is the version's evaluation window, `total` its running totals since the analysis
    started; a sequential trigger keeps the totals at its last `lookback` looks in `analysis`.
    """
    condition = trigger.condition
    if not trigger.sequential:
        return _window_trigger(condition, window, settings)
    counts = _rate_counts(condition, total)
    if counts is None:
        return Found(
            outcome=Outcome.ERROR,
            reason=f"{condition.metric}: the metric source exports no latency histogram",
        )
    threshold, above, now = counts
    starts: Sequence[Sequence[float]] = (analysis or {}).get("starts", ())
    found = crossing(
        [(start[0], start[1]) for start in starts],
        now,
        threshold=threshold,
        above=above,
        alpha=TRIGGER_ALPHA,
    )
    state = {"starts": [*([start[0], start[1]] for start in starts), list(now)][-lookback:]}
    if found.shown:
        what = "failed" if condition.metric == "error_rate" else "slower than "
        if condition.metric != "error_rate":
            what += shown(condition.threshold, condition)
        reason = (
            f"{found.events:.4g} of the last {found.trials:g} requests {what}: {condition} shown"
            f" (evidence {found.evidence:.3g} >= {found.bound:.3g})"
        )
        return Found(outcome=Outcome.FAIL, reason=reason, analysis=state, at_once=True)
    windowed = _window_trigger(condition, window, settings)
    return Found(outcome=windowed.outcome, reason=windowed.reason, analysis=state)


def _rate_counts(
    condition: Condition, total: Totals
) -> tuple[float, bool, tuple[float, float]] | None:
    """(threshold rate, test above it, (trials, events)) of a sequential trigger."""
    above = condition.op in (">", ">=")
    if condition.metric == "error_rate":
        return condition.threshold, above, (total.requests, total.errors)
    buckets = latency_buckets(total)
    if buckets is None:
        return None
    level = QUANTILE_LEVELS[condition.metric]
    # The quantile is past t exactly when the share of requests slower than t is past 1 - q.
    return 1 - level, above, (buckets.total, count_above(buckets, condition.threshold))


def _window_trigger(condition: Condition, total: Totals, settings: ControllerSettings) -> Found:
    """A trigger's condition on one version's evaluation window: fail when it holds."""
    if total.requests < settings.min_samples:
        return Found(
            outcome=Outcome.INCONCLUSIVE,
            reason=f"{total.requests:g} requests in the window, needs {settings.min_samples}",
        )
    if condition.metric in RATE_EVENTS or condition.metric in FEEDBACK_MEANS:
        answered = total.requests - total.errors
        if answered < settings.min_samples:
            return Found(
                outcome=Outcome.INCONCLUSIVE,
                reason=f"{answered:g} answered requests in the window, needs"
                f" {settings.min_samples}",
            )
    value = _window_value(condition, total, settings)
    if value is None:
        return Found(
            outcome=Outcome.ERROR,
            reason=f"{condition.metric} is not observed by the controller; it observes"
            f" {', '.join(OBSERVED_TRIGGER_METRICS)}",
        )
    seen = f"{condition.metric} {shown(value, condition)} in the last"
    seen += f" {settings.evaluation_window_seconds:g} s"
    if condition.holds(value):
        return Found(outcome=Outcome.FAIL, reason=f"{seen}: {condition}")
    return Found(outcome=Outcome.PASS, reason=f"{seen}: not {condition}")


def shown(value: float, condition: Condition) -> str:
    """`value` in the unit the condition is written in: 7.2%, 180ms, 0.31."""
    if condition.unit == "ratio":
        return f"{value * 100:.3g}%"
    if condition.unit == "seconds":
        return f"{value * 1000:.4g}ms"
    return f"{value:.4g}"


def _window_value(
    condition: Condition, total: Totals, settings: ControllerSettings
) -> float | None:
    metric = condition.metric
    if metric == "error_rate":
        return total.errors / total.requests
    if metric in ("throughput", "requests_per_second"):
        return total.requests / settings.evaluation_window_seconds
    if metric in RATE_EVENTS or metric in FEEDBACK_MEANS:
        return _feedback_value(metric, total)
    if metric.startswith("latency_p") and metric[len("latency_p") :].isdigit():
        buckets = latency_buckets(total)
        if buckets is None:
            return None
        value = quantile(buckets, int(metric[len("latency_p") :]) / 100)
        return None if math.isnan(value) else value
    return None


def _feedback_value(metric: str, total: Totals) -> float:
    """A business metric on answered requests (the caller checked there are some)."""
    if metric in RATE_EVENTS:
        rate = feedback_rate(total, RATE_EVENTS[metric])
        return rate.successes / rate.trials
    moments = feedback_moments(total, FEEDBACK_MEANS[metric])
    return moments.total / moments.count


def criterion_check(
    criterion: Condition, *, canary: Totals, stable: Totals, settings: ControllerSettings
) -> Found:
    """A canary success criterion judged against stable on the evaluation window.

    A fresh look at each check rather than one running test since the start: a fault that
    begins late in a long step then shows within one window (the timing model's W), where
    running totals would dilute it with the healthy traffic before. `failure_threshold`
    consecutive failing checks stand between one unlucky window and a rollback.
    """
    if criterion.metric == "error_rate":
        result = judge(
            criterion,
            None,
            canary=proportion_of_errors(canary),
            stable=proportion_of_errors(stable),
            settings=settings,
        )
    else:
        canary_buckets, stable_buckets = latency_buckets(canary), latency_buckets(stable)
        if canary_buckets is None or stable_buckets is None:
            return Found(
                outcome=Outcome.ERROR,
                reason=f"{criterion.metric}: the metric source exports no latency histogram",
            )
        result = judge(
            criterion, None, canary=canary_buckets, stable=stable_buckets, settings=settings
        )
    return Found(outcome=result.outcome, reason=result.reason)


def ab_check(
    test: ABTest, analysis: dict[str, Any], totals: Mapping[str, Totals], elapsed: float
) -> tuple[Found, ABResult]:
    """One look at the A/B test on the totals since its start."""
    control, treatment = totals.get(test.control), totals.get(test.treatment)
    observations: dict[str, Arms] = {}
    if control is not None and treatment is not None:
        observations = {
            metric.name: Arms(
                control=ab_sample(metric.name, control), treatment=ab_sample(metric.name, treatment)
            )
            for metric in test.metrics
        }
    result = analyse(test, ABState.from_dict(analysis), observations, elapsed_seconds=elapsed)
    outcome = {
        "error": Outcome.ERROR,
        "inconclusive": Outcome.INCONCLUSIVE,
        "continue": Outcome.PASS,
    }.get(result.decision, Outcome.PASS)
    return Found(outcome=outcome, reason=result.reason, analysis=result.state.as_dict()), result


def ab_sample(metric: str, total: Totals) -> Proportion | Moments:
    """The running sample an A/B metric is tested on (`AB_METRICS` names those observed)."""
    if metric in RATE_EVENTS:
        return feedback_rate(total, RATE_EVENTS[metric])
    if metric in VALUE_EVENTS:
        return feedback_moments(total, VALUE_EVENTS[metric])
    return proportion_of_errors(total)


def unobserved_ab_metrics(test: ABTest) -> tuple[str, ...]:
    return tuple(metric.name for metric in test.metrics if metric.name not in AB_METRICS)


def start_ab(test: ABTest) -> dict[str, Any]:
    return ABState.start(test).as_dict()


def blind(reason: str) -> Found:
    """Every metric check of a tick whose inputs are unusable."""
    return Found(outcome=Outcome.ERROR, reason=reason)
