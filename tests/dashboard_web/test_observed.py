"""The figures the dashboard shows, computed from the controller's own observations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tests.controller.policies import canary_policy
from tfprod.runtime.controller import Histogram, Observation, VersionCounters
from tfprod.runtime.dashboard import FeatureDrift, ObservationLog, Observed, drift_of, quantile
from tfprod.runtime.observe import Sample

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BOUNDS = (0.01, 0.05, 0.1)


def counters(requests: float, errors: float, buckets: tuple[float, ...]) -> VersionCounters:
    return VersionCounters(
        requests=requests,
        errors=errors,
        latency=Histogram(upper_bounds=BOUNDS, cumulative_counts=buckets),
    )


def observed(seconds: float, replicas: dict[str, dict[str, VersionCounters]]) -> Observed:
    return Observed(at=T0 + timedelta(seconds=seconds), observation=Observation(replicas=replicas))


def test_figures_are_the_change_over_the_evaluation_window_per_version() -> None:
    policy = canary_policy()  # evaluation window 60 s
    stable, canary = (version.id for version in policy.versions)
    log = ObservationLog()
    for seconds, scale in ((0, 0), (30, 5), (60, 10), (70, 11)):
        log.record(
            policy,
            observed(
                seconds,
                {
                    "gw:8080": {
                        stable: counters(
                            100 * scale, scale, (50 * scale, 90 * scale, 100 * scale, 100 * scale)
                        ),
                        canary: counters(10 * scale, 2 * scale, (0, 0, 10 * scale, 10 * scale)),
                    }
                },
            ),
        )

    document = log.metrics(policy)

    # The base is the newest observation 60 s or more before the latest (70 s): the one at 0 s.
    assert document["window_seconds"] == 70.0
    assert document["versions"] == [
        {
            "version": stable,
            "requests": 1100.0,
            "requests_per_second": pytest.approx(1100 / 70),
            "error_rate": 0.01,
            "p95_latency_seconds": pytest.approx(0.075),
        },
        {
            "version": canary,
            "requests": 110.0,
            "requests_per_second": pytest.approx(110 / 70),
            "error_rate": 0.2,
            "p95_latency_seconds": pytest.approx(0.0975),
        },
    ]
    assert document["source_errors"] == {}
    assert document["observed_at"] == (T0 + timedelta(seconds=70)).isoformat()


def test_a_restarted_replica_counts_from_zero_and_the_others_from_the_base() -> None:
    policy = canary_policy()
    stable = policy.versions[0].id
    log = ObservationLog()
    log.record(
        policy,
        observed(
            0,
            {
                "a:1": {stable: counters(500, 5, (500, 500, 500, 500))},
                "b:1": {stable: counters(400, 0, (400, 400, 400, 400))},
            },
        ),
    )
    log.record(
        policy,
        observed(
            10,
            {
                "a:1": {stable: counters(30, 3, (30, 30, 30, 30))},  # restarted
                "b:1": {stable: counters(420, 1, (420, 420, 420, 420))},
            },
        ),
    )

    (figures,) = log.metrics(policy)["versions"]

    assert figures["requests"] == 50.0
    assert figures["requests_per_second"] == 5.0
    assert figures["error_rate"] == 4 / 50


def test_one_observation_gives_no_rates_and_none_says_the_controller_has_not_looked() -> None:
    policy = canary_policy()
    log = ObservationLog()
    assert log.metrics(policy) == {
        "deployment": policy.name,
        "versions": [],
        "drift": None,
        "missing": "the controller has not observed this deployment yet",
    }
    log.record(
        policy,
        Observed(
            at=T0,
            observation=Observation(source_errors={"gateway gw:1": "GET failed"}),
            drift={"f1": FeatureDrift(score=0.5, detected=True)},
        ),
    )
    assert log.metrics(policy) == {
        "deployment": policy.name,
        "versions": [],
        "drift": [{"feature": "f1", "score": 0.5, "detected": True}],
        "observed_at": T0.isoformat(),
        "source_errors": {"gateway gw:1": "GET failed"},
        "missing": "one observation so far: rates need two",
    }


def test_a_version_without_requests_in_the_window_has_no_error_rate_or_latency() -> None:
    policy = canary_policy()
    stable = policy.versions[0].id
    log = ObservationLog()
    for seconds in (0, 5):
        log.record(policy, observed(seconds, {"a:1": {stable: counters(7, 0, (7, 7, 7, 7))}}))

    assert log.metrics(policy)["versions"] == [
        {
            "version": stable,
            "requests": 0.0,
            "requests_per_second": 0.0,
            "error_rate": None,
            "p95_latency_seconds": None,
        }
    ]


@pytest.mark.parametrize(
    ("cumulative", "expected"),
    [
        ({0.01: 50, 0.05: 90, 0.1: 100, math.inf: 100}, 0.075),
        ({0.01: 96, 0.05: 100, math.inf: 100}, 0.01 * 95 / 96),
        ({0.1: 90, math.inf: 100}, 0.1),  # in the +Inf bucket: the highest finite bound
        ({0.1: 0, math.inf: 0}, None),
    ],
)
def test_p95_interpolates_within_its_bucket_as_histogram_quantile_does(
    cumulative: dict[float, float], expected: float | None
) -> None:
    assert quantile(0.95, cumulative) == (None if expected is None else pytest.approx(expected))


def test_drift_is_the_largest_score_over_the_replicas_and_detected_if_any_detects() -> None:
    def sample(name: str, deployment: str, value: float, feature: str = "f0") -> Sample:
        labels = (
            {"deployment": deployment, "feature": feature}
            if feature
            else {"deployment": deployment}
        )
        return Sample(name=f"tfprod_drift_{name}", labels=labels, value=value)

    samples = [
        sample("score", "rec", 0.1),
        sample("score", "rec", 0.4),
        sample("detected", "rec", 0),
        sample("detected", "rec", 1),
        sample("score", "rec", 0.0, feature="f1"),
        sample("score", "other", 9),
        sample("overall_score", "rec", 0.4, feature=""),
    ]

    assert drift_of(samples, "rec") == {
        "f0": FeatureDrift(score=0.4, detected=True),
        "f1": FeatureDrift(score=0.0, detected=None),
    }
