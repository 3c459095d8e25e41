"""Cumulative counters into totals: growth, per-replica resets, first sightings, windows."""

from __future__ import annotations

from tests.controller.simulation import at
from tfprod.policy.rollout_state import Totals, WindowPoint
from tfprod.runtime.controller import Histogram, Observation, VersionCounters
from tfprod.runtime.controller.totals import ingest, trailing

BOUNDS = (0.1, 1.0)


def counters(requests: float, errors: float, fast: float, slow: float) -> VersionCounters:
    return VersionCounters(
        requests=requests,
        errors=errors,
        latency=Histogram(upper_bounds=BOUNDS, cumulative_counts=(fast, fast + slow, requests)),
    )


def test_a_restarted_replica_is_rebased_and_the_other_replicas_growth_still_counts() -> None:
    before = Observation(
        replicas={
            "gateway-0": {"v2": counters(100, 4, 90, 10)},
            "gateway-1": {"v2": counters(200, 6, 180, 20)},
        }
    )
    after = Observation(
        replicas={
            "gateway-0": {"v2": counters(5, 0, 5, 0)},  # restarted
            "gateway-1": {"v2": counters(260, 7, 230, 30)},
        }
    )
    first = ingest({}, {}, before.counters())
    second = ingest(first.raw, first.totals, after.counters())

    assert first.totals == {"v2": Totals(latency_bounds=BOUNDS, latency_counts=(0.0, 0.0, 0.0))}
    assert second.reset_reason == (
        "counter reset (gateway-0/v2 requests went down from 100 to 5): this check's totals are"
        " rebased"
    )
    assert second.totals == {
        "v2": Totals(requests=60, errors=1, latency_bounds=BOUNDS, latency_counts=(50, 10, 0))
    }
    assert second.raw["gateway-0/v2"].requests == 5


def test_the_window_is_the_growth_since_the_oldest_check_inside_it() -> None:
    totals = {"v2": Totals(requests=50)}
    window = (
        WindowPoint(at=at(0), totals={"v2": Totals(requests=10)}),
        WindowPoint(at=at(10), totals={"v2": Totals(requests=20)}),
        WindowPoint(at=at(20), totals={"v2": Totals(requests=35)}),
    )

    kept, windowed = trailing(window, totals, at(25), 15)

    assert [point.at for point in kept] == [at(10), at(20), at(25)]
    assert windowed == {"v2": Totals(requests=30)}
