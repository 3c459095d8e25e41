from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from tfprod.policy import (
    CanaryRamp,
    Condition,
    PolicyError,
    parse_condition,
    parse_criterion,
    parse_duration,
    parse_percent,
    ramp_steps,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error_rate > 5%", Condition(metric="error_rate", op=">", threshold=0.05, unit="ratio")),
        ("error_rate>0.05", Condition(metric="error_rate", op=">", threshold=0.05, unit="ratio")),
        (
            "latency_p95 > 200ms",
            Condition(metric="latency_p95", op=">", threshold=0.2, unit="seconds"),
        ),
        (
            "latency_p99 <= 1.5s",
            Condition(metric="latency_p99", op="<=", threshold=1.5, unit="seconds"),
        ),
        (
            "drift_score > 0.2",
            Condition(metric="drift_score", op=">", threshold=0.2, unit="number"),
        ),
        (
            "requests_per_second >= 1000",
            Condition(metric="requests_per_second", op=">=", threshold=1000, unit="number"),
        ),
        (
            "  prediction_confidence < 60%  ",
            Condition(metric="prediction_confidence", op="<", threshold=0.6, unit="ratio"),
        ),
        (
            "revenue_per_user != -1.5",
            Condition(metric="revenue_per_user", op="!=", threshold=-1.5, unit="number"),
        ),
        (
            "checkout_time == 3s",
            Condition(metric="checkout_time", op="==", threshold=3, unit="seconds"),
        ),
    ],
)
def test_parses_and_normalises_conditions(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "error_rate >> 5%",
            "invalid condition 'error_rate >> 5%': expected one of <, <=, >, >=, ==, != after"
            " 'error_rate' at column 12",
        ),
        ("", "invalid condition '': expected a metric name at column 1"),
        ("> 5%", "invalid condition '> 5%': expected a metric name at column 1"),
        (
            "error_rate >",
            "invalid condition 'error_rate >': expected a number after '>' at column 13",
        ),
        (
            "error_rate > 5x",
            "invalid condition 'error_rate > 5x': expected one of %, ms, s after '5' at column 15",
        ),
        (
            "error_rate > 5% or 1",
            "invalid condition 'error_rate > 5% or 1': expected the end after '%' at column 17",
        ),
        (
            "error_rate > $5",
            "invalid condition 'error_rate > $5': unexpected character '$' at column 14",
        ),
        (
            "error_rate > 1.2.3",
            "invalid condition 'error_rate > 1.2.3': expected a number after '>' at column 14",
        ),
        (
            "latency_p95 > 100",
            "invalid condition 'latency_p95 > 100': latency_p95 takes 'ms' or 's', not a plain"
            " number",
        ),
        (
            "error_rate > 5ms",
            "invalid condition 'error_rate > 5ms': error_rate takes '%' or a plain number, not"
            " 'ms'",
        ),
        (
            "drift_score > 20%",
            "invalid condition 'drift_score > 20%': drift_score takes a plain number, not '%'",
        ),
        (
            "error_rate > 5",
            "invalid condition 'error_rate > 5': error_rate is a ratio; a number without % must"
            " be from 0 to 1 (write 5% for percent)",
        ),
        (
            "error_rate > 150%",
            "invalid condition 'error_rate > 150%': error_rate is a ratio; a percentage must be 0"
            " to 100",
        ),
    ],
)
def test_rejects_bad_conditions_showing_text_position_and_choices(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as excinfo:
        parse_condition(text)

    assert str(excinfo.value) == message


def test_parses_criteria_keyed_by_metric() -> None:
    assert parse_criterion("error_rate", "< 1%") == parse_condition("error_rate < 1%")
    assert parse_criterion("latency_p95", "< 100ms") == Condition(
        metric="latency_p95", op="<", threshold=0.1, unit="seconds"
    )


@pytest.mark.parametrize(
    ("metric", "text", "message"),
    [
        (
            "latency_p95",
            "<< 100ms",
            "invalid criterion for latency_p95 '<< 100ms': expected one of <, <=, >, >=, ==, !="
            " at column 1",
        ),
        (
            "error_rate",
            "error_rate < 1%",
            "invalid criterion for error_rate 'error_rate < 1%': expected one of <, <=, >, >=,"
            " ==, != at column 1",
        ),
        (
            "error rate",
            "< 1%",
            "invalid metric name 'error rate': use letters, digits and '_', starting with a letter",
        ),
    ],
)
def test_rejects_bad_criteria(metric: str, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as excinfo:
        parse_criterion(metric, text)

    assert str(excinfo.value) == message


def test_condition_holds_compares_observed_value_in_normalised_unit() -> None:
    condition = parse_condition("latency_p95 > 200ms")

    assert condition.holds(0.25)
    assert not condition.holds(0.2)
    assert parse_condition("error_rate <= 1%").holds(0.01)


@given(
    metric=st.sampled_from(["error_rate", "latency_p95", "drift_score", "conversion_rate"]),
    op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    value=st.integers(min_value=0, max_value=100),
)
def test_written_form_of_a_condition_parses_back_to_it(metric: str, op: str, value: int) -> None:
    unit = {"error_rate": "%", "latency_p95": "ms", "drift_score": "", "conversion_rate": "%"}
    condition = parse_condition(f"{metric} {op} {value}{unit[metric]}")

    assert parse_condition(str(condition)) == condition


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600), ("30m", 1800), ("10s", 10), ("14d", 1_209_600), ("250ms", 0.25), ("1.5h", 5400)],
)
def test_parses_durations_to_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1x", "invalid duration '1x': expected one of ms, s, m, h, d after '1' at column 2"),
        ("90", "invalid duration '90': expected one of ms, s, m, h, d after '90' at column 3"),
        ("h", "invalid duration 'h': expected a number at column 1"),
        (
            "9" * 400 + "s",
            f"invalid duration '{'9' * 400}s': expected a number of usual size at column 1",
        ),
        (
            "1h30m",
            "invalid duration '1h30m': expected one of ms, s, m, h, d after '1' at column 2",
        ),
        ("0s", "invalid duration '0s': must be greater than zero"),
        ("-1h", "invalid duration '-1h': must be greater than zero"),
    ],
)
def test_rejects_bad_durations(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as excinfo:
        parse_duration(text)

    assert str(excinfo.value) == message


def test_linear_schedule_is_ten_equal_steps_over_the_duration() -> None:
    assert ramp_steps("linear_10_minutes", 5) == (
        (5.0, 60.0),
        (14.5, 60.0),
        (24.0, 60.0),
        (33.5, 60.0),
        (43.0, 60.0),
        (52.5, 60.0),
        (62.0, 60.0),
        (71.5, 60.0),
        (81.0, 60.0),
        (90.5, 60.0),
    )
    assert ramp_steps("linear_1_hour", 10)[1] == (19.0, 360.0)


def test_exponential_schedule_doubles_and_shares_the_duration() -> None:
    assert ramp_steps("exponential_30_minutes", 5) == (
        (5.0, 360.0),
        (10.0, 360.0),
        (20.0, 360.0),
        (40.0, 360.0),
        (80.0, 360.0),
    )
    assert ramp_steps("exponential_2_minutes", 60) == ((60.0, 120.0),)


def test_linear_steps_schedule_holds_each_step_for_the_duration() -> None:
    assert ramp_steps("linear_5_steps_2m", 5) == (
        (5.0, 120.0),
        (24.0, 120.0),
        (43.0, 120.0),
        (62.0, 120.0),
        (81.0, 120.0),
    )
    assert ramp_steps("linear_3_steps_30s", 1) == ((1.0, 30.0), (34.0, 30.0), (67.0, 30.0))


_FORMS = "linear_<N>_<unit>, exponential_<N>_<unit>, linear_<K>_steps_<duration>"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "linear_ten_minutes",
            "invalid ramp schedule 'linear_ten_minutes': expected a whole number from 1 to 1000"
            f" after 'linear_' at column 8; allowed forms: {_FORMS}",
        ),
        (
            "cubic_1_hour",
            "invalid ramp schedule 'cubic_1_hour': expected 'linear' or 'exponential' at column"
            f" 1; allowed forms: {_FORMS}",
        ),
        (
            "linear_10_days",
            "invalid ramp schedule 'linear_10_days': expected one of second, seconds, minute,"
            f" minutes, hour, hours after 'linear_10_' at column 11; allowed forms: {_FORMS}",
        ),
        (
            "linear_5_steps_2x",
            "invalid ramp schedule 'linear_5_steps_2x': expected a duration like 2m after"
            f" 'steps_' at column 16; allowed forms: {_FORMS}",
        ),
        (
            "linear_0_minutes",
            "invalid ramp schedule 'linear_0_minutes': expected a whole number from 1 to 1000"
            f" after 'linear_' at column 8; allowed forms: {_FORMS}",
        ),
        (
            "linear_1001_steps_1s",
            "invalid ramp schedule 'linear_1001_steps_1s': expected a whole number from 1 to 1000"
            f" after 'linear_' at column 8; allowed forms: {_FORMS}",
        ),
    ],
)
def test_rejects_bad_ramp_schedules(schedule: str, message: str) -> None:
    with pytest.raises(PolicyError) as excinfo:
        ramp_steps(schedule, 5)

    assert str(excinfo.value) == message


@pytest.mark.parametrize("start", [0, 100, float("nan")])
def test_rejects_ramp_start_outside_zero_to_hundred(start: float) -> None:
    with pytest.raises(PolicyError) as excinfo:
        ramp_steps("linear_10_minutes", start)

    assert str(excinfo.value) == (
        f"invalid ramp start {start:g}%: a canary starts above 0 and below 100 percent"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"metric": "error_rate", "op": ">", "threshold": 0.05, "unit": "seconds"},
            "error_rate is measured as 'ratio', not 'seconds'",
        ),
        (
            {"metric": "p95 latency", "op": ">", "threshold": 0.2, "unit": "seconds"},
            "invalid metric name 'p95 latency': use letters, digits and '_', starting with a"
            " letter",
        ),
    ],
)
def test_rejects_typed_conditions_with_wrong_metric_or_unit(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Condition.model_validate(fields)

    assert [error["msg"] for error in excinfo.value.errors()] == [message]


@given(text=st.text(max_size=30))
def test_any_text_parses_or_fails_with_a_policy_error(text: str) -> None:
    for parse in (parse_condition, parse_duration, lambda text: ramp_steps(text, 5)):
        try:
            parse(text)
        except PolicyError as error:
            assert str(error).startswith(("invalid condition", "invalid duration", "invalid ramp"))


@pytest.mark.parametrize(("text", "percent"), [("5%", 5.0), ("12.5 %", 12.5), (" 100%", 100.0)])
def test_parse_percent_reads_a_written_percentage(text: str, percent: float) -> None:
    assert parse_percent(text) == percent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", "invalid percentage '5': expected '%' after '5' at column 2"),
        ("five%", "invalid percentage 'five%': expected a number at column 1"),
        ("5%%", "invalid percentage '5%%': expected the end after '%' at column 3"),
    ],
)
def test_parse_percent_wants_a_number_and_a_percent_sign(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_percent(text)
    assert str(error.value) == message


def test_a_policy_reads_ramp_and_mirror_percentages_written_as_strings() -> None:
    ramp = CanaryRamp.model_validate({"version": "rec-v2", "steps": [("5%", "1m"), (50, 60)]})
    assert [(step.percent, step.hold_seconds) for step in ramp.steps] == [(5.0, 60.0), (50.0, 60.0)]
