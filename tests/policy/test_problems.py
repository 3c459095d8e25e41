"""A ValidationError as the user's lines: props notation for constructs, document notation
for files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy
from tfprod.policy import Debugger, Policy, file_problem, validation_lines


def _error(document: object) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        Policy.model_validate(document)
    return error.value


TRIGGER = {"fallback_version": "rec-v2.0.0", "triggers": {"error_rate >> 5%": "pause"}}
TRIGGER_PROBLEM = (
    "invalid condition 'error_rate >> 5%': expected one of <, <=, >, >=, ==, != after"
    " 'error_rate' at column 12"
)


def test_document_notation_dots_every_part_of_the_path() -> None:
    error = _error(minimal_policy(safety=TRIGGER))
    assert validation_lines(error, notation="document") == [
        f"safety.triggers.0.condition: {TRIGGER_PROBLEM}"
    ]


def test_props_notation_indexes_lists_and_renames_the_top_level_field() -> None:
    error = _error(minimal_policy(safety=TRIGGER))
    assert validation_lines(error, rename={"safety": "net"}) == [
        f"net.triggers[0].condition: {TRIGGER_PROBLEM}"
    ]


def test_a_number_out_of_range_is_shown_a_text_never_is() -> None:
    with pytest.raises(ValidationError) as error:
        Debugger.model_validate({"capture_rate": 2, "explainers": ["lime"]})
    assert validation_lines(error.value) == [
        "capture_rate: Input should be less than or equal to 1 (got 2)"
    ]
    secret = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnop"
    weights = {"rec-v2.0.0": secret, "rec-v2.1.0": 5}
    error = _error(minimal_policy(traffic={"weights": weights}))
    assert validation_lines(error, notation="document") == [
        "traffic.weights.rec-v2.0.0: Input should be a valid number, unable to parse string as a"
        " number"
    ]


def test_a_problem_of_the_whole_value_is_named_as_such() -> None:
    error = _error(["not", "a", "policy"])
    assert validation_lines(error, notation="document")[0].startswith("(document): ")
    assert validation_lines(error)[0].startswith("value: ")


def test_a_file_reader_reports_the_first_problem_with_the_file(tmp_path: Path) -> None:
    error = _error({"name": "broken"})
    path = tmp_path / "policy.json"
    assert file_problem(path, error) == f"{path}: environment: Field required"
