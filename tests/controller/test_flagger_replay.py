"""The Flagger replay of `bench/rollback.py` on synthetic streams, with exact detection times."""

from __future__ import annotations

import math
import statistics

from bench._flagger import Analysis, Second, Stream, detection_times, replay

BOUNDS = (0.01, 0.1, 0.25, math.inf)
HEALTHY = Second(requests=100, errors=0, buckets=(100, 0, 0, 0))


def stream(faulty: Second) -> Stream:
    """30 healthy seconds, then 10 of the fault (the replay cycles both ways)."""
    return Stream(seconds=(HEALTHY,) * 30 + (faulty,) * 10, onset=30, upper_bounds=BOUNDS)


ERRORS = stream(Second(requests=100, errors=10, buckets=(100, 0, 0, 0)))
SLOW = stream(Second(requests=100, errors=0, buckets=(0, 0, 100, 0)))


def test_flagger_defaults_fail_the_first_check_whose_minute_holds_more_than_6_faulty_seconds() -> (
    None
):
    # 10% errors: the 1-minute window's rate passes 1% once it holds more than 6 faulty
    # seconds (10 * s / 6000 > 0.01).
    times = detection_times(ERRORS, Analysis(max_error_rate=0.01))

    assert times == [*range(60, 67), *range(7, 60)]
    assert statistics.median(t for t in times if t is not None) == 36.5
    assert max(t for t in times if t is not None) == 66


def test_flaggers_shortest_interval_checks_every_10_seconds() -> None:
    times = detection_times(ERRORS, Analysis(interval=10, max_error_rate=0.01))

    assert times == [10, 11, 12, 13, 14, 15, 16, 7, 8, 9]
    assert statistics.median(t for t in times if t is not None) == 11.5


def test_a_threshold_of_two_waits_for_a_second_failed_check() -> None:
    analysis = Analysis(interval=10, threshold=2, max_error_rate=0.01)

    assert replay(ERRORS, analysis, delay=7) == 17
    assert replay(ERRORS, analysis, delay=0) == 20


def test_the_latency_quantile_fails_once_the_slow_share_passes_its_tail() -> None:
    # p95 over the minute passes 100 ms once more than 5% of it is slow: > 3 seconds.
    analysis = Analysis(interval=10, latency_level=0.95, max_latency=0.1)

    assert detection_times(SLOW, analysis) == [10, 11, 12, 13, 4, 5, 6, 7, 8, 9]


def test_a_healthy_stream_is_never_rolled_back() -> None:
    healthy = Stream(seconds=(HEALTHY,) * 40, onset=30, upper_bounds=BOUNDS)

    assert replay(healthy, Analysis(max_error_rate=0.01, max_latency=0.1), delay=0) is None


def test_a_relative_latency_check_compares_the_canary_with_stable_at_the_same_seconds() -> None:
    slow_everywhere = Second(requests=100, errors=0, buckets=(0, 0, 100, 0))
    both_slow = Stream(
        seconds=(HEALTHY,) * 30 + (slow_everywhere,) * 10,
        onset=30,
        upper_bounds=BOUNDS,
        reference=(HEALTHY,) * 30 + (slow_everywhere,) * 10,
    )
    canary_only = Stream(
        seconds=SLOW.seconds, onset=30, upper_bounds=BOUNDS, reference=(HEALTHY,) * 40
    )
    analysis = Analysis(interval=10, latency_level=0.95, max_latency=0.1, relative=True)

    assert replay(both_slow, analysis, delay=0) is None
    assert detection_times(canary_only, analysis) == [10, 11, 12, 13, 4, 5, 6, 7, 8, 9]
