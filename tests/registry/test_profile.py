"""Reference profiles: the training-data statistics that drift detection compares against."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfprod.runtime.registry import (
    CategoricalFeature,
    NumericFeature,
    ReferenceProfile,
    build_profile,
)


def test_numeric_columns_get_quantiles_and_a_histogram() -> None:
    data = np.array([[0.0, 10.0], [1.0, 10.0], [2.0, 10.0], [3.0, np.nan], [4.0, 10.0]])

    profile = build_profile(data, feature_names=["age", "income"], bins=2, quantiles=(0, 0.5, 1))

    assert profile.rows == 5
    assert profile.features["age"] == NumericFeature(
        count=5,
        missing=0,
        mean=2.0,
        std=float(np.std([0, 1, 2, 3, 4])),
        quantile_levels=(0.0, 0.5, 1.0),
        quantile_values=(0.0, 2.0, 4.0),
        bin_edges=(0.0, 2.0, 4.0),
        bin_counts=(2, 3),
    )
    income = profile.features["income"]
    assert isinstance(income, NumericFeature)
    assert (income.count, income.missing, income.std) == (4, 1, 0.0)


def test_categorical_columns_get_frequencies_with_the_rest_as_other() -> None:
    columns = {
        "country": ["de", "fr", "de", None, "us", "de"],
        "vip": [True, False, True, True, True, False],
    }

    profile = build_profile(columns, max_categories=2)

    assert profile.features["country"] == CategoricalFeature(
        count=5, missing=1, frequencies={"de": 0.6, "fr": 0.2}, other=0.2
    )
    assert profile.features["vip"] == CategoricalFeature(
        count=6, missing=0, frequencies={"True": 4 / 6, "False": 2 / 6}, other=0.0
    )


def test_unnamed_array_columns_are_named_by_position() -> None:
    profile = build_profile(np.ones((3, 2), dtype="int64"))

    assert list(profile.features) == ["f0", "f1"]


def test_profile_survives_a_json_round_trip() -> None:
    profile = build_profile({"x": np.linspace(0, 1, 50), "colour": ["red", "blue"] * 25}, bins=4)

    text = json.dumps(profile.to_json(), allow_nan=False)

    assert ReferenceProfile.from_json(json.loads(text)) == profile


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (
            np.ones(3),
            {},
            "data must be a 2-D array (rows x features) or a mapping of columns, "
            "got an array of shape (3,)",
        ),
        (
            np.ones((2, 2)),
            {"feature_names": ["a"]},
            "feature_names must name each of the 2 columns once, got ['a']",
        ),
        ({"a": [1, 2], "b": [1]}, {}, "columns must have the same length, got {'a': 2, 'b': 1}"),
        ({"a": [np.nan, np.inf]}, {}, "feature 'a' has no finite values to profile"),
        (np.ones((0, 2)), {}, "cannot profile data with no rows"),
        (np.ones((2, 2)), {"bins": 0}, "bins must be at least 1, got 0"),
        (np.ones((2, 2)), {"quantiles": (0.5, 2)}, "quantiles must lie in [0, 1], got [0.5, 2]"),
    ],
)
def test_bad_data_is_refused_with_the_reason(
    data: object, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        build_profile(data, **options)

    assert str(raised.value) == message


def test_unknown_profile_format_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        ReferenceProfile.from_json({"format": 9, "rows": 0, "features": {}})

    assert str(raised.value) == "reference profile format 9 is not supported; expected 1"
