"""The canary judged against stable: error rates, latency quantiles, guards and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tfprod.policy import CanaryRamp, Condition, ControllerSettings, parse_criterion
from tfprod.runtime.analysis import (
    Buckets,
    CanaryState,
    CheckResult,
    Outcome,
    Proportion,
    judge,
    quantile,
)
from tfprod.runtime.gateway.metrics import GatewayMetrics

SETTINGS = ControllerSettings(min_samples=100)
UNDER_1_PERCENT = parse_criterion("error_rate", "< 1%")
P95_UNDER_200MS = parse_criterion("latency_p95", "< 200ms")


def errors(canary: tuple[float, float], stable: tuple[float, float]) -> dict[str, Proportion]:
    """Requests and errors of each version."""
    return {
        "canary": Proportion(trials=canary[0], successes=canary[1]),
        "stable": Proportion(trials=stable[0], successes=stable[1]),
    }


def look(
    criterion: Condition,
    canary: Proportion | Buckets,
    stable: Proportion | Buckets,
    state: CanaryState | None = None,
) -> CheckResult:
    return judge(criterion, state, canary=canary, stable=stable, settings=SETTINGS)


def test_a_canary_within_its_error_criterion_passes() -> None:
    result = look(UNDER_1_PERCENT, **errors((1000, 5), (1000, 5)))
    assert result.outcome is Outcome.PASS
    assert (result.canary_value, result.stable_value) == (0.005, 0.005)
    assert result.reason == "error_rate 0.5% (stable 0.5%) meets error_rate < 1%"


def test_a_canary_failing_its_criterion_and_worse_than_stable_fails() -> None:
    result = look(UNDER_1_PERCENT, **errors((1000, 60), (1000, 5)))
    assert result.outcome is Outcome.FAIL
    assert result.statistical_significance > 0.9999
    assert result.reason == (
        "error_rate 6% (stable 0.5%) breaks error_rate < 1%, worse than stable, significance 1.0000"
    )


def test_a_problem_stable_shares_is_neither_blamed_on_the_canary_nor_passed() -> None:
    result = look(UNDER_1_PERCENT, **errors((1000, 50), (1000, 50)))
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == (
        "error_rate 5% (stable 5%) breaks error_rate < 1%, not yet shown worse than stable,"
        " significance 0.0000"
    )


def test_too_few_requests_are_inconclusive_even_at_a_high_error_rate() -> None:
    result = look(UNDER_1_PERCENT, **errors((99, 99), (5000, 5)))
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == "error_rate: needs 100 requests per version; canary has 99, stable 5000"


def test_evidence_builds_over_looks_and_a_fail_is_reached() -> None:
    state: CanaryState | None = None
    outcomes = []
    for step in range(1, 6):
        result = look(
            UNDER_1_PERCENT, **errors((200 * step, 4 * step), (2000 * step, 2 * step)), state=state
        )
        state = result.state
        outcomes.append(result.outcome)
    assert outcomes[0] is Outcome.INCONCLUSIVE
    assert outcomes[-1] is Outcome.FAIL


def test_healthy_canaries_are_rarely_failed_over_many_looks() -> None:
    # Both versions at 2% errors against a 1% criterion: the canary is never passed, and
    # failing it (a false rollback) must stay under alpha over 30 looks.
    rng = np.random.default_rng(11)
    experiments, looks, per_look = 100, 30, 200
    canary = rng.binomial(per_look, 0.02, size=(experiments, looks)).cumsum(axis=1)
    stable = rng.binomial(per_look * 9, 0.02, size=(experiments, looks)).cumsum(axis=1)
    failed = 0
    for canary_row, stable_row in zip(canary, stable, strict=True):
        state: CanaryState | None = None
        for index in range(looks):
            n = per_look * (index + 1)
            result = look(
                UNDER_1_PERCENT,
                **errors((n, canary_row[index]), (9 * n, stable_row[index])),
                state=state,
            )
            state = result.state
        failed += result.outcome is Outcome.FAIL
    assert failed / experiments <= 0.05


def test_a_greater_than_criterion_treats_lower_as_worse() -> None:
    at_least_90 = parse_criterion("error_rate", ">= 90%")  # odd, but the Policy allows it
    result = look(at_least_90, **errors((1000, 500), (1000, 950)))
    assert result.outcome is Outcome.FAIL


@pytest.mark.parametrize(
    ("canary", "stable", "message"),
    [
        (
            Proportion(trials=math.nan, successes=1),
            Proportion(trials=100, successes=1),
            "error_rate canary: trials is nan; it must be a finite number",
        ),
        (
            Proportion(trials=100, successes=1),
            Proportion(trials=100, successes=-2),
            "error_rate stable: successes is -2; it must be 0 or more",
        ),
        (
            Buckets(upper_bounds=(math.inf,), cumulative_counts=(5,)),
            Proportion(trials=100, successes=1),
            "error_rate needs Proportion for canary and stable, got Buckets and Proportion",
        ),
    ],
)
def test_unusable_error_counts_give_an_error_naming_them(
    canary: Proportion | Buckets, stable: Proportion | Buckets, message: str
) -> None:
    result = look(UNDER_1_PERCENT, canary, stable)
    assert (result.outcome, result.reason) == (Outcome.ERROR, message)


def test_a_counter_reset_gives_an_error_and_keeps_the_state() -> None:
    first = look(UNDER_1_PERCENT, **errors((1000, 5), (1000, 5)))
    reset = look(UNDER_1_PERCENT, **errors((10, 0), (1100, 6)), state=first.state)
    assert reset.outcome is Outcome.ERROR
    assert reset.reason == (
        "error_rate canary: count went down from 1000 to 10 (a counter reset); give totals"
        " since the test started"
    )
    assert reset.state == first.state


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        (
            parse_criterion("throughput", "> 100"),
            "the canary judge compares error_rate, latency_p50, latency_p90, latency_p95,"
            " latency_p99 with stable, not 'throughput'",
        ),
        (
            parse_criterion("error_rate", "== 0%"),
            "criterion error_rate == 0% has no worse side to test: use <, <=, > or >=",
        ),
    ],
)
def test_criteria_the_judge_cannot_compare_give_an_error(
    criterion: Condition, message: str
) -> None:
    result = look(criterion, **errors((1000, 5), (1000, 5)))
    assert (result.outcome, result.reason, result.state) == (Outcome.ERROR, message, None)


BOUNDS = (0.1, 0.2, 0.5, math.inf)


def test_quantiles_from_buckets_interpolate_as_prometheus_does() -> None:
    buckets = Buckets(upper_bounds=BOUNDS, cumulative_counts=(50, 90, 100, 100))
    # p95: rank 95 lies in (0.2, 0.5] holding ranks 90..100: 0.2 + 0.3 * 5/10 = 0.35
    assert quantile(buckets, 0.95) == pytest.approx(0.35)
    assert quantile(buckets, 0.5) == pytest.approx(0.1)
    assert quantile(buckets, 0.9) == pytest.approx(0.2)
    tail = Buckets(upper_bounds=BOUNDS, cumulative_counts=(50, 90, 95, 100))
    assert quantile(tail, 0.99) == 0.5  # in the +Inf bucket: the highest finite bound
    assert math.isnan(quantile(Buckets(upper_bounds=BOUNDS, cumulative_counts=(0, 0, 0, 0)), 0.5))


def gateway_histogram(latencies: np.ndarray) -> Buckets:
    """The request-duration histogram as the gateway renders it, read back by Prometheus' parser."""
    metrics = GatewayMetrics()
    for value in latencies:
        metrics.duration.observe(("clf", "v"), float(value))
    bounds, counts = [], []
    for family in text_string_to_metric_families(metrics.render()):
        if family.name == "tfprod_gateway_request_duration_seconds":
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bounds.append(float(sample.labels["le"]))
                    counts.append(sample.value)
    return Buckets(upper_bounds=tuple(bounds), cumulative_counts=tuple(counts))


def test_a_canary_150ms_slower_fails_its_p95_criterion_from_gateway_histograms() -> None:
    rng = np.random.default_rng(5)
    stable = gateway_histogram(rng.lognormal(math.log(0.05), 0.5, size=2000))
    slow = gateway_histogram(rng.lognormal(math.log(0.05), 0.5, size=500) + 0.15)
    healthy = gateway_histogram(rng.lognormal(math.log(0.05), 0.5, size=500))
    failed = look(P95_UNDER_200MS, slow, stable)
    assert failed.outcome is Outcome.FAIL
    assert failed.canary_value is not None and failed.canary_value > 0.2
    assert failed.state is not None and failed.state.boundary == 0.25
    passed = look(P95_UNDER_200MS, healthy, stable)
    assert passed.outcome is Outcome.PASS
    assert passed.stable_value is not None and passed.stable_value < 0.2


def test_latency_tails_are_compared_above_the_stable_quantile_bucket() -> None:
    # stable: p95 in (0.2, 0.5] (0.2 + 0.3 * 50/90 = 0.3667), 10 of 1000 above 0.5; canary:
    # p95 in the +Inf bucket (shown as 0.5, the highest finite bound), 100 of 1000 above 0.5.
    stable = Buckets(upper_bounds=BOUNDS, cumulative_counts=(500, 900, 990, 1000))
    canary = Buckets(upper_bounds=BOUNDS, cumulative_counts=(300, 600, 900, 1000))
    result = look(P95_UNDER_200MS, canary, stable)
    assert result.outcome is Outcome.FAIL
    assert result.state is not None and result.state.boundary == 0.5
    assert result.state.test.treatment.count == 1000
    assert result.state.test.treatment.total == 100
    assert result.state.test.control.total == 10
    assert result.reason == (
        "latency_p95 500ms (stable 366.7ms) breaks latency_p95 < 200ms, worse than stable,"
        " significance 1.0000"
    )


@pytest.mark.parametrize(
    ("canary", "message"),
    [
        (
            Buckets(upper_bounds=(0.1, 0.2, 0.5), cumulative_counts=(1, 2, 3)),
            "latency_p95 canary: the last bucket bound is 0.5; it must be +Inf",
        ),
        (
            Buckets(upper_bounds=BOUNDS, cumulative_counts=(5, 4, 9, 9)),
            "latency_p95 canary: cumulative count 4 at le=0.2 is below 5 of the bucket before;"
            " bucket counts must not decrease",
        ),
        (
            Buckets(upper_bounds=BOUNDS, cumulative_counts=(5, math.nan, 9, 9)),
            "latency_p95 canary: bucket le=0.2 is nan; it must be a finite number",
        ),
        (
            Buckets(upper_bounds=(0.1, 0.3, 0.5, math.inf), cumulative_counts=(5, 6, 9, 9)),
            "latency_p95 canary and stable histograms have different buckets:"
            " (0.1, 0.3, 0.5, inf) and (0.1, 0.2, 0.5, inf)",
        ),
    ],
)
def test_unusable_histograms_give_an_error_naming_them(canary: Buckets, message: str) -> None:
    stable = Buckets(upper_bounds=BOUNDS, cumulative_counts=(500, 900, 990, 1000))
    result = look(P95_UNDER_200MS, canary, stable)
    assert (result.outcome, result.reason) == (Outcome.ERROR, message)


def test_stable_quantile_beyond_the_last_bucket_is_inconclusive() -> None:
    stable = Buckets(upper_bounds=BOUNDS, cumulative_counts=(10, 20, 30, 1000))
    result = look(P95_UNDER_200MS, stable, stable)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == (
        "latency_p95: stable's quantile lies above the last finite bucket; no tail to compare"
    )


def test_canary_state_survives_a_json_round_trip() -> None:
    stable = Buckets(upper_bounds=BOUNDS, cumulative_counts=(500, 900, 990, 1000))
    result = look(P95_UNDER_200MS, stable, stable)
    assert result.state is not None
    assert (
        CanaryState.from_dict(json.loads(json.dumps(result.state.as_dict(), allow_nan=False)))
        == result.state
    )


@pytest.mark.parametrize(
    "written",
    [
        ["error_rate < 1%", "latency_p95 < 80ms"],  # examples/e_commerce_deployment
        {"error_rate": "< 0.5%", "latency_p99": "< 50ms"},  # examples/fraud_detection
    ],
)
def test_the_examples_canary_criteria_are_all_judged(written: list[str] | dict[str, str]) -> None:
    ramp = CanaryRamp(version="v2", steps=[(10, 60)], success_criteria=written)
    # p95 and p99 in (10ms, 20ms]: 10 + 10 * (950 - 900) / 95 and 10 + 10 * 90 / 95 ms
    stable = Buckets(
        upper_bounds=(0.01, 0.02, 0.05, math.inf), cumulative_counts=(900, 995, 1000, 1000)
    )
    for criterion in ramp.success_criteria:
        if criterion.metric == "error_rate":
            result = look(criterion, **errors((1000, 1), (1000, 1)))
        else:
            result = look(criterion, stable, stable)
        assert result.outcome is Outcome.PASS, result.reason
