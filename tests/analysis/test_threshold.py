"""The safety triggers' sequential threshold test, and the interpolated count above a bound."""

from __future__ import annotations

import math

import numpy as np

from tfprod.runtime.analysis import Buckets, count_above, crossing, quantile

SIXTY_LOOKS = [(0.0, 0.0)] * 60


def test_every_request_failing_is_shown_past_5_percent_after_four_requests() -> None:
    three = crossing(SIXTY_LOOKS, (3.0, 3.0), threshold=0.05, above=True)
    four = crossing(SIXTY_LOOKS, (4.0, 4.0), threshold=0.05, above=True)

    assert round(three.bound, 4) == round(math.log(60 / 0.001), 4) == 11.0021
    assert not three.shown
    assert round(three.evidence, 4) == round(3 * math.log(20), 4)
    assert four.shown
    assert (four.trials, four.events) == (4.0, 4.0)


def test_the_evidence_comes_from_the_start_that_shows_the_fault_best() -> None:
    # 1000 healthy requests (0.5% errors), then 200 at 50%: the start after the healthy ones
    # carries the evidence, undiluted.
    found = crossing([(0.0, 0.0), (1000.0, 5.0)], (1200.0, 105.0), threshold=0.05, above=True)

    assert found.shown
    assert (found.trials, found.events) == (200.0, 100.0)
    assert round(found.evidence, 3) == round(
        200 * (0.5 * math.log(0.5 / 0.05) + 0.5 * math.log(0.5 / 0.95)), 3
    )


def test_a_rate_on_the_near_side_of_the_threshold_is_no_evidence() -> None:
    found = crossing([(0.0, 0.0)], (100_000.0, 500.0), threshold=0.05, above=True)

    assert found.evidence == 0.0
    assert not found.shown
    assert (found.trials, found.events) == (100_000.0, 500.0)


def test_a_rate_below_a_threshold_is_shown_for_less_than_conditions() -> None:
    found = crossing([(0.0, 0.0)], (1000.0, 5.0), threshold=0.05, above=False)

    assert found.shown
    assert round(found.bound, 4) == round(math.log(1000), 4)


def test_without_an_earlier_look_nothing_is_shown() -> None:
    found = crossing([], (1000.0, 1000.0), threshold=0.05, above=True)

    assert not found.shown
    assert found.bound == math.inf


def test_one_event_is_past_a_zero_threshold_at_once() -> None:
    assert crossing([(0.0, 0.0)], (10.0, 1.0), threshold=0.0, above=True).shown
    assert not crossing([(0.0, 0.0)], (10.0, 0.0), threshold=0.0, above=True).shown


def test_a_version_at_its_threshold_is_shown_past_it_at_most_alpha_of_the_looks() -> None:
    # 2000 looks of 100 requests each at exactly 5%, 60 starts per look, alpha 0.001.
    rng = np.random.default_rng(7)
    events = np.cumsum(rng.binomial(100, 0.05, size=2060))
    shown = 0
    for look in range(60, 2060):
        starts = [(100.0 * i, float(events[i - 1]) if i else 0.0) for i in range(look - 60, look)]
        now = (100.0 * look, float(events[look - 1]))
        shown += crossing(starts, now, threshold=0.05, above=True).shown
    assert shown <= 2


def test_the_count_above_a_bound_is_interpolated_like_the_quantile() -> None:
    buckets = Buckets(upper_bounds=(0.1, 0.25, math.inf), cumulative_counts=(50.0, 90.0, 100.0))

    assert count_above(buckets, 0.1) == 50.0
    assert count_above(buckets, 0.175) == 30.0
    assert count_above(buckets, 0.05) == 75.0
    assert count_above(buckets, 20.0) == 0.0
    # p70 is 0.175 s: exactly 30% of the requests lie above it.
    assert round(quantile(buckets, 0.7), 9) == 0.175
