"""The mSPRT core: exact values, validity over many looks, power, and unusable input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tfprod.runtime.analysis import Arms, Moments, Proportion, SampleError, SequentialState, update
from tfprod.runtime.analysis.msprt import half_width, log_likelihood_ratio

ALPHA = 0.05


def conversions(control: tuple[float, float], treatment: tuple[float, float]) -> Arms:
    return Arms(
        control=Proportion(trials=control[0], successes=control[1]),
        treatment=Proportion(trials=treatment[0], successes=treatment[1]),
    )


def test_one_look_gives_the_hand_computed_p_value_and_interval() -> None:
    # control 100/1000 (var 0.1*0.9), treatment 150/1000 (var 0.15*0.85), tau2 = 0.02^2:
    # V = 0.09/1000 + 0.1275/1000 = 2.175e-4, d = 0.05
    # log LR = 0.5*ln(2.175e-4/6.175e-4) + 0.05^2*4e-4/(2*2.175e-4*6.175e-4)
    #        = -0.5217302 + 3.7228250 = 3.2010948 -> p = exp(-3.2010948) = 0.0407176
    # half-width = sqrt(2*2.175e-4*6.175e-4/4e-4*(ln 20 + 0.5*ln(6.175e-4/2.175e-4)))
    #            = 0.0486013644, so the interval is 0.05 -+ 0.0486013644
    state = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.0004)
    after = update(state, conversions((1000, 100), (1000, 150)))
    assert after.p_value == pytest.approx(0.0407176007, rel=1e-9)
    assert after.lower == pytest.approx(0.0013986355553, rel=1e-9)
    assert after.upper == pytest.approx(0.0986013644447, rel=1e-11)
    assert after.difference == pytest.approx(0.05)
    assert after.significant
    assert after.looks == 1


def test_interval_excludes_zero_exactly_when_p_reaches_alpha() -> None:
    state = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.0004)
    for treated in range(100, 160, 2):
        after = update(state, conversions((1000, 100), (1000, treated)))
        assert after.significant == (after.lower > 0), treated


def test_p_value_never_rises_and_the_interval_never_widens() -> None:
    state = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.0004)
    state = update(state, conversions((1000, 100), (1000, 150)))
    later = update(state, conversions((2000, 210), (2000, 210)))
    assert later.p_value == state.p_value
    assert later.lower == state.lower
    assert later.upper < state.upper
    assert later.difference == 0.0


def test_continuous_metric_uses_count_sum_and_sum_of_squares() -> None:
    # control: 400 values of mean 2 and variance 1 (sum 800, sum of squares 400*(1+4) = 2000);
    # treatment: 400 values of mean 2.5, variance 1 (sum 1000, sum of squares 400*(1+6.25)).
    # V = 1/400 + 1/400 = 0.005, d = 0.5, tau2 = 0.25:
    # log LR = 0.5*ln(0.005/0.255) + 0.25*0.25/(2*0.005*0.255) = -1.9659 + 24.5098 = 22.5439
    state = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.25)
    after = update(
        state,
        Arms(
            control=Moments(count=400, total=800, sum_of_squares=2000),
            treatment=Moments(count=400, total=1000, sum_of_squares=2900),
        ),
    )
    expected = 0.5 * math.log(0.005 / 0.255) + 0.0625 / (2 * 0.005 * 0.255)
    assert expected == pytest.approx(22.543886, rel=1e-6)
    assert after.p_value == pytest.approx(math.exp(-expected), rel=1e-9)


def test_default_tau2_is_the_relative_mde_of_the_pooled_mean_and_then_frozen() -> None:
    state = SequentialState(alpha=ALPHA, min_samples=100)
    first = update(state, conversions((1000, 40), (1000, 60)))
    assert first.tau2 == pytest.approx((0.1 * 0.05) ** 2)
    second = update(first, conversions((2000, 80), (2000, 160)))
    assert second.tau2 == first.tau2


def test_before_the_guard_a_look_only_records_the_totals() -> None:
    state = SequentialState(alpha=ALPHA, min_samples=1000, tau2=0.0004)
    after = update(state, conversions((999, 10), (5000, 900)))
    assert (after.p_value, after.lower, after.upper, after.looks) == (1.0, -math.inf, math.inf, 0)
    assert after.difference is None
    assert after.treatment == Moments(count=5000, total=900, sum_of_squares=900)


def test_no_conversion_in_either_arm_tests_nothing_yet() -> None:
    after = update(SequentialState(alpha=ALPHA, min_samples=10), conversions((500, 0), (500, 0)))
    assert (after.p_value, after.tau2, after.looks) == (1.0, None, 0)


def test_one_sided_test_ignores_a_treatment_that_is_better() -> None:
    two = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.0004)
    one = SequentialState(alpha=ALPHA, min_samples=100, tau2=0.0004, alternative="greater")
    lower = conversions((1000, 150), (1000, 100))
    assert update(two, lower).significant
    assert update(one, lower).p_value == 1.0
    higher = conversions((1000, 100), (1000, 150))
    # Phi(sqrt(tau2)*d/sqrt(V*(V+tau2))) = Phi(2.7286755) = 0.9968205: LR doubles, almost.
    assert update(one, higher).p_value == pytest.approx(0.0407176007 / (2 * 0.9968205376), 1e-8)


def test_state_survives_a_json_round_trip() -> None:
    state = update(
        SequentialState(alpha=ALPHA, min_samples=100), conversions((1000, 40), (1000, 60))
    )
    fresh = SequentialState(alpha=ALPHA, min_samples=100)
    for value in (state, fresh):
        assert (
            SequentialState.from_dict(json.loads(json.dumps(value.as_dict(), allow_nan=False)))
            == value
        )
    assert fresh.as_dict()["lower"] is None


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        (
            conversions((100, 5), (math.nan, 5)),
            "treatment: trials is nan; it must be a finite number",
        ),
        (conversions((-1, 0), (100, 5)), "control: trials is -1; it must be 0 or more"),
        (conversions((100, 101), (100, 5)), "control: successes 101 exceed trials 100"),
        (
            Arms(
                control=Moments(count=10, total=100, sum_of_squares=10),
                treatment=Moments(count=10, total=1, sum_of_squares=1),
            ),
            "control: sum 100 is impossible with count 10 and sum of squares 10 (sum^2 must"
            " not exceed count * sum of squares)",
        ),
        (
            Arms(
                control=Moments(count=10, total=math.inf, sum_of_squares=10),
                treatment=Moments(count=10, total=1, sum_of_squares=1),
            ),
            "control: sum is inf; it must be a finite number",
        ),
    ],
)
def test_unusable_totals_are_refused_with_the_field_and_value(arms: Arms, message: str) -> None:
    with pytest.raises(SampleError) as excinfo:
        update(SequentialState(alpha=ALPHA, min_samples=10), arms)
    assert str(excinfo.value) == message


def test_a_counter_reset_is_refused() -> None:
    state = update(SequentialState(alpha=ALPHA, min_samples=10), conversions((500, 20), (500, 30)))
    with pytest.raises(SampleError) as excinfo:
        update(state, conversions((600, 25), (40, 2)))
    assert str(excinfo.value) == (
        "treatment: count went down from 500 to 40 (a counter reset); give totals since the"
        " test started"
    )


def test_bad_settings_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^alpha 1.5 is not valid: give a number between 0 and 1$"
    ):
        SequentialState(alpha=1.5, min_samples=1)
    with pytest.raises(ValueError, match=r"^tau2 0.0 is not valid: give a finite number above 0$"):
        SequentialState(alpha=0.05, min_samples=1, tau2=0.0)


def simulate(
    rng: np.random.Generator,
    *,
    experiments: int,
    looks: int,
    per_look: int,
    rates: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Running conversion counts per look: arrays (experiments, looks) for control, treatment."""
    control = rng.binomial(per_look, rates[0], size=(experiments, looks)).cumsum(axis=1)
    treatment = rng.binomial(per_look, rates[1], size=(experiments, looks)).cumsum(axis=1)
    return control, treatment


def decided(control_counts: np.ndarray, treatment_counts: np.ndarray, per_look: int) -> int:
    """How many experiments `update` decided at some look, fed every look in turn."""
    total = 0
    for control_row, treatment_row in zip(control_counts, treatment_counts, strict=True):
        state = SequentialState(alpha=ALPHA, min_samples=500)
        for look, (c, t) in enumerate(zip(control_row, treatment_row, strict=True), start=1):
            state = update(state, conversions((look * per_look, c), (look * per_look, t)))
        total += state.significant
    return total


def test_a_a_false_positives_stay_under_alpha_over_fifty_looks_unlike_a_peeked_z_test() -> None:
    rng = np.random.default_rng(20261201)
    experiments, looks, per_look = 200, 50, 500
    control, treatment = simulate(
        rng, experiments=experiments, looks=looks, per_look=per_look, rates=(0.1, 0.1)
    )
    false_positives = decided(control, treatment, per_look)
    n = per_look * np.arange(1, looks + 1)
    p_c, p_t = control / n, treatment / n
    z = (p_t - p_c) / np.sqrt((p_c * (1 - p_c) + p_t * (1 - p_t)) / n)
    naive = int((np.abs(z) > 1.959964).any(axis=1).sum())
    assert false_positives / experiments <= ALPHA
    assert naive / experiments > 2 * ALPHA


def test_a_known_lift_is_found_in_most_experiments() -> None:
    rng = np.random.default_rng(7)
    # 10% -> 12% conversion; the fixed-horizon n at 80% power is about 3,800 per arm.
    control, treatment = simulate(rng, experiments=200, looks=20, per_look=500, rates=(0.1, 0.12))
    assert decided(control, treatment, 500) / 200 >= 0.9


def test_the_vectorised_formulas_give_what_update_gives_look_after_look() -> None:
    rng = np.random.default_rng(3)
    control, treatment = simulate(rng, experiments=1, looks=30, per_look=200, rates=(0.2, 0.23))
    n = 200 * np.arange(1, 31)
    p_c, p_t = control[0] / n, treatment[0] / n
    variance = (p_c * (1 - p_c) + p_t * (1 - p_t)) / n
    tau2 = 0.001
    p_values = np.minimum.accumulate(
        np.minimum(1, np.exp(-log_likelihood_ratio(p_t - p_c, variance, tau2)))
    )
    lowers = np.maximum.accumulate(p_t - p_c - half_width(variance, tau2, ALPHA))
    state = SequentialState(alpha=ALPHA, min_samples=1, tau2=tau2)
    for look in range(30):
        state = update(
            state, conversions((n[look], control[0, look]), (n[look], treatment[0, look]))
        )
        assert state.p_value == pytest.approx(p_values[look], rel=1e-12)
        assert state.lower == pytest.approx(lowers[look], rel=1e-12, abs=1e-15)
