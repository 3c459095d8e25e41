"""The direct source's text-format parser reads what prometheus_client's parser reads."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tfprod.runtime.observe import ExpositionError, parse_exposition

TEXT = r"""# HELP tfprod_gateway_requests_total Attempts by model, variant, code and outcome.
# TYPE tfprod_gateway_requests_total counter
tfprod_gateway_requests_total{model="rank\"er",variant="a\\b",code="200"} 4
tfprod_gateway_requests_total{model="ranker",variant="line\nbreak",code="503",outcome="failed"} 1.5
# TYPE tfprod_gateway_request_duration_seconds histogram
tfprod_gateway_request_duration_seconds_bucket{model="ranker",variant="r1",le="0.0005"} 0
tfprod_gateway_request_duration_seconds_bucket{model="ranker",variant="r1",le="+Inf"} 3
tfprod_gateway_request_duration_seconds_sum{model="ranker",variant="r1"} 0.0123
tfprod_gateway_request_duration_seconds_count{model="ranker",variant="r1"} 3
# TYPE odd gauge
odd{a="1",} NaN
odd{ b = "2" } -Inf 1700000000000
odd +Inf

odd{} 1e-3
"""


def test_every_sample_matches_prometheus_client_including_escapes_and_non_finite_values() -> None:
    theirs = [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(TEXT)
        for sample in family.samples
    ]
    ours = [(sample.name, dict(sample.labels), sample.value) for sample in parse_exposition(TEXT)]
    assert [(name, labels) for name, labels, _ in ours] == [
        (name, labels) for name, labels, _ in theirs
    ]
    assert [repr(value) for _, _, value in ours] == [repr(value) for _, _, value in theirs]
    assert ours[0][1] == {"model": 'rank"er', "variant": "a\\b", "code": "200"}
    assert ours[1][1]["variant"] == "line\nbreak"
    assert math.isnan(ours[6][2])
    assert len(ours) == 10


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('requests{model="a"', "bad label"),
        ("requests{model=a} 1", "bad label"),
        ("requests", "expected a value after the name and labels"),
        ("requests 1 2 3", "expected a value after the name and labels"),
        ("requests one", "could not convert string to float: 'one'"),
        ("9requests 1", "no metric name"),
    ],
)
def test_a_line_outside_the_format_is_refused_naming_its_number(line: str, problem: str) -> None:
    with pytest.raises(ExpositionError) as raised:
        list(parse_exposition(f"# TYPE requests counter\n{line}\n"))
    assert str(raised.value) == f"line 2: {problem}: {line!r}"
