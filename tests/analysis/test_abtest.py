"""A/B test decisions from the Policy's ABTest: winner, harm, horizon, guard, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tfprod.policy import ABTest
from tfprod.runtime.analysis import ABState, Arms, Moments, Proportion, analyse

CONTROL, TREATMENT = "rec-v2.0.0", "rec-v2.1.0"
DAY = 86400.0


def ab_test(**overrides: Any) -> ABTest:
    fields: dict[str, Any] = {
        "control": CONTROL,
        "treatment": TREATMENT,
        "treatment_percent": 50,
        "metrics": ["conversion_rate"],
        "min_sample_size": 1000,
        "significance_level": 0.05,
        "duration_seconds": "14d",
    }
    fields.update(overrides)
    return ABTest.model_validate(fields)


def conversions(control: tuple[float, float], treatment: tuple[float, float]) -> Arms:
    return Arms(
        control=Proportion(trials=control[0], successes=control[1]),
        treatment=Proportion(trials=treatment[0], successes=treatment[1]),
    )


def test_a_clear_lift_makes_the_treatment_the_winner_with_its_effect_and_interval() -> None:
    test = ab_test()
    state = ABState.start(test, tau2={"conversion_rate": 0.0004})
    result = analyse(
        test, state, {"conversion_rate": conversions((1000, 100), (1000, 150))}, elapsed_seconds=DAY
    )
    assert (result.decision, result.winner) == ("winner", TREATMENT)
    (metric,) = result.metrics
    assert metric.decision == "winner"
    assert metric.difference == pytest.approx(0.05)
    assert metric.relative_lift == pytest.approx(0.5)
    assert metric.interval == pytest.approx((0.0013986355553, 0.0986013644447), rel=1e-9)
    assert metric.statistical_significance == pytest.approx(1 - 0.0407176007, rel=1e-9)
    assert (metric.control_samples, metric.treatment_samples) == (1000, 1000)
    assert result.reason == (
        "conversion_rate: rec-v2.1.0 is better, difference +0.05 (95% interval +0.001399 to"
        " +0.0986)"
    )


def test_a_decrease_metric_makes_the_treatment_with_fewer_chargebacks_win() -> None:
    test = ab_test(metrics=[{"name": "chargeback_rate", "direction": "decrease"}])
    state = ABState.start(test, tau2={"chargeback_rate": 0.0001})
    fewer = conversions((20000, 400), (20000, 300))
    result = analyse(test, state, {"chargeback_rate": fewer}, elapsed_seconds=DAY)
    assert (result.decision, result.winner) == ("winner", TREATMENT)
    assert result.metrics[0].relative_lift == pytest.approx(-0.25)


def test_revenue_is_compared_from_count_sum_and_sum_of_squares() -> None:
    test = ab_test(metrics=["revenue_per_user"])
    state = ABState.start(test, tau2={"revenue_per_user": 0.25})
    # control: mean 2, variance 1; treatment: mean 2.5, variance 1 (see test_msprt)
    richer = Arms(
        control=Moments(count=1000, total=2000, sum_of_squares=5000),
        treatment=Moments(count=1000, total=2500, sum_of_squares=7250),
    )
    result = analyse(test, state, {"revenue_per_user": richer}, elapsed_seconds=DAY)
    assert (result.decision, result.winner) == ("winner", TREATMENT)
    assert result.metrics[0].difference == pytest.approx(0.5)
    assert result.metrics[0].relative_lift == pytest.approx(0.25)


def test_a_slower_treatment_loses_on_a_latency_metric() -> None:
    test = ab_test(metrics=["latency_p95"])
    state = ABState.start(test, tau2={"latency_p95": 0.0004})
    # control: mean 0.1 s, variance 0.0004; treatment: mean 0.11 s, variance 0.0004
    slower = Arms(
        control=Moments(count=2000, total=200, sum_of_squares=2000 * (0.0004 + 0.01)),
        treatment=Moments(count=2000, total=220, sum_of_squares=2000 * (0.0004 + 0.0121)),
    )
    result = analyse(test, state, {"latency_p95": slower}, elapsed_seconds=DAY)
    assert (result.decision, result.winner) == ("winner", CONTROL)
    assert result.metrics[0].direction == "decrease"


def test_a_harm_on_one_metric_outweighs_a_gain_on_another() -> None:
    test = ab_test(metrics=["conversion_rate", "click_rate"])
    state = ABState.start(test, tau2={"conversion_rate": 0.0004, "click_rate": 0.0004})
    result = analyse(
        test,
        state,
        {
            "conversion_rate": conversions((4000, 400), (4000, 600)),
            "click_rate": conversions((4000, 600), (4000, 400)),
        },
        elapsed_seconds=DAY,
    )
    assert (result.decision, result.winner) == ("winner", CONTROL)
    assert [m.winner for m in result.metrics] == [TREATMENT, CONTROL]
    assert result.reason.startswith("click_rate: rec-v2.0.0 is better")


def test_two_metrics_are_each_tested_at_half_of_alpha() -> None:
    one = ab_test()
    two = ab_test(metrics=["conversion_rate", "click_rate"])
    looks = {
        "conversion_rate": conversions((1000, 100), (1000, 150)),
        "click_rate": conversions((1000, 100), (1000, 100)),
    }
    tau2 = {"conversion_rate": 0.0004}
    single = analyse(one, ABState.start(one, tau2=tau2), looks, elapsed_seconds=DAY)
    double = analyse(two, ABState.start(two, tau2=tau2), looks, elapsed_seconds=DAY)
    assert single.decision == "winner"
    # p = 0.0407 passes 0.05 alone but not 0.025: Bonferroni keeps the test going.
    assert double.decision == "continue"
    assert double.metrics[0].statistical_significance == pytest.approx(
        1 - 2 * 0.0407176007, rel=1e-9
    )
    assert [state.alpha for _, state in double.state.metrics] == [0.025, 0.025]
    three = ab_test(metrics=["click_through_rate", "conversion_rate", "revenue_per_user"])
    assert [s.alpha for _, s in ABState.start(three).metrics] == [0.05 / 3] * 3
    assert double.metrics[0].interval[0] < 0 < double.metrics[0].interval[1]


def test_at_the_horizon_undecided_the_control_stays_and_no_difference_is_reported() -> None:
    test = ab_test()
    state = ABState.start(test, tau2={"conversion_rate": 0.0004})
    look = {"conversion_rate": conversions((5000, 500), (5000, 510))}
    running = analyse(test, state, look, elapsed_seconds=13 * DAY)
    assert (running.decision, running.winner) == ("continue", None)
    ended = analyse(test, running.state, look, elapsed_seconds=14 * DAY)
    assert (ended.decision, ended.winner) == ("no_difference_detected", None)
    lower, upper = ended.metrics[0].interval
    assert lower < 0.002 < upper
    assert ended.reason == (
        "no difference detected in 14 days; control rec-v2.0.0 stays: conversion_rate: no"
        f" difference detected, difference +0.002 (95% interval {lower:+.4g} to {upper:+.4g})"
    )


def test_below_the_minimum_sample_size_nothing_is_decided() -> None:
    test = ab_test()
    result = analyse(
        test,
        ABState.start(test),
        {"conversion_rate": conversions((999, 10), (5000, 2500))},
        elapsed_seconds=DAY,
    )
    assert (result.decision, result.winner) == ("inconclusive", None)
    assert result.reason == (
        "conversion_rate: needs 1000 samples per variant; control rec-v2.0.0 has 999, treatment"
        " rec-v2.1.0 has 5000"
    )
    assert result.metrics[0].interval == (-math.inf, math.inf)


def test_a_gain_is_not_promoted_while_another_metric_has_no_data() -> None:
    test = ab_test(metrics=["conversion_rate", "revenue"])
    state = ABState.start(test, tau2={"conversion_rate": 0.0004})
    result = analyse(
        test,
        state,
        {"conversion_rate": conversions((4000, 400), (4000, 600))},
        elapsed_seconds=DAY,
    )
    assert (result.decision, result.winner) == ("inconclusive", None)
    assert result.reason == "revenue: no data at this look"


def test_unusable_totals_give_an_error_and_keep_the_last_good_state() -> None:
    test = ab_test()
    first = analyse(
        test,
        ABState.start(test),
        {"conversion_rate": conversions((2000, 100), (2000, 110))},
        elapsed_seconds=DAY,
    )
    reset = analyse(
        test,
        first.state,
        {"conversion_rate": conversions((100, 5), (2100, 115))},
        elapsed_seconds=DAY,
    )
    assert (reset.decision, reset.winner) == ("error", None)
    assert reset.reason == (
        "conversion_rate control: count went down from 2000 to 100 (a counter reset); give"
        " totals since the test started"
    )
    assert reset.state == first.state


def test_state_survives_a_json_round_trip() -> None:
    test = ab_test(metrics=["conversion_rate", "revenue"])
    result = analyse(
        test,
        ABState.start(test),
        {"conversion_rate": conversions((2000, 100), (2000, 110))},
        elapsed_seconds=DAY,
    )
    assert (
        ABState.from_dict(json.loads(json.dumps(result.state.as_dict(), allow_nan=False)))
        == result.state
    )


def test_a_state_for_other_metrics_is_refused() -> None:
    old = ABState.start(ab_test())
    with pytest.raises(ValueError) as excinfo:
        analyse(ab_test(metrics=["revenue"]), old, {}, elapsed_seconds=0)
    assert str(excinfo.value) == (
        "the state tests conversion_rate but the A/B test names revenue: start a new state with"
        " ABState.start(test)"
    )


def test_tau2_for_a_metric_the_test_does_not_name_is_refused() -> None:
    with pytest.raises(ValueError) as excinfo:
        ABState.start(ab_test(), tau2={"revnue": 1.0})
    assert str(excinfo.value) == (
        "tau2 names metrics the A/B test does not: revnue; its metrics: conversion_rate"
    )
