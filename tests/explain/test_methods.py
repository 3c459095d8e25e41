"""LIME, SHAP and integrated gradients on a real SavedModel whose dominant feature is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.explain.models import DOMINANT
from tfprod.runtime.explain import (
    METHODS,
    Background,
    ExplainableModel,
    ExplainError,
    explain_prediction,
    integrated_gradients,
    load_model,
)
from tfprod.runtime.explain.inputs import InputError
from tfprod.runtime.registry import build_profile

pytestmark = pytest.mark.slow  # TensorFlow, LIME and SHAP: about 30 s for the module

ROW = [1.0, 1.0, 1.0, 1.0]
NAMES = ("features_0", "features_1", "features_2", "features_3")


def normal_rows(count: int = 200) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(count, 4))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("background", [None, "rows", "profile"])
def test_every_method_ranks_the_dominant_feature_first(
    dominant: ExplainableModel, method: str, background: str | None
) -> None:
    given = {
        None: None,
        "rows": normal_rows(),
        "profile": build_profile(normal_rows(2000), drift_edges=99),
    }[background]

    (explained,) = explain_prediction([ROW], method, model=dominant, background=given)

    assert explained.ranking[0] == DOMINANT
    assert explained.ranking[-1] == "features_3"
    assert explained.method == method
    assert explained.background == {
        None: "zeros", "rows": "given", "profile": "reference_profile"
    }[background]  # fmt: skip
    assert explained.prediction == pytest.approx(10 * np.tanh(0.5) + 0.3 * np.tanh(0.5), 1e-5)
    assert set(explained.attributions) == set(NAMES)


@pytest.mark.parametrize("background", [None, "rows"])
def test_integrated_gradients_are_complete_within_a_hundredth(
    dominant: ExplainableModel, background: str | None
) -> None:
    rows = None if background is None else normal_rows()
    (explained,) = explain_prediction([ROW], "gradients", model=dominant, background=rows)

    assert explained.completeness_error is not None
    assert explained.completeness_error < 0.01
    assert "completeness_error" in explained.to_json()


def test_the_completeness_error_is_the_gap_between_attributions_and_the_output_change(
    dominant: ExplainableModel,
) -> None:
    row, baseline = np.array(ROW), np.array([-1.0, 0.5, 0.0, 2.0])

    attributions, error = integrated_gradients(dominant, row, baseline)

    change = dominant.predict(row[None, :])[0] - dominant.predict(baseline[None, :])[0]
    assert error == pytest.approx(abs(attributions.sum() - change), abs=1e-6)
    assert attributions[3] == 0.0


def test_attention_maps_are_integrated_gradients(dominant: ExplainableModel) -> None:
    (gradients,) = explain_prediction([ROW], "gradients", model=dominant)
    (maps,) = explain_prediction([ROW], "attention_maps", model=dominant)

    assert maps.attributions == gradients.attributions
    assert maps.method == "attention_maps"


def test_only_the_gradient_methods_report_a_completeness_error(
    dominant: ExplainableModel,
) -> None:
    (lime,) = explain_prediction([ROW], "lime", model=dominant)

    assert lime.completeness_error is None
    assert list(lime.to_json()) == [
        "method", "version", "prediction", "attributions", "ranking", "background"
    ]  # fmt: skip


def test_a_saved_model_path_and_policy_feature_names_are_accepted(dominant_dir: Path) -> None:
    names = ["price", "age", "clicks", "unused"]

    (explained,) = explain_prediction(
        {"price": 1, "age": 1, "clicks": 1, "unused": 1}, "gradients",
        model=dominant_dir, feature_names=names, version="v1",
    )  # fmt: skip

    assert explained.ranking == ("price", "age", "clicks", "unused")
    assert explained.version == "v1"


def test_feature_names_must_name_every_feature(dominant_dir: Path) -> None:
    with pytest.raises(ValueError) as excinfo:
        load_model(dominant_dir, feature_names=["price"])

    assert str(excinfo.value) == (
        "debugger features name 1 features (price); the model takes 4"
        " (features_0, features_1, features_2, features_3)"
    )


def test_an_unknown_method_is_refused_naming_the_allowed_ones(
    dominant: ExplainableModel,
) -> None:
    with pytest.raises(ExplainError) as excinfo:
        explain_prediction([ROW], "saliency", model=dominant)

    assert str(excinfo.value) == (
        "method 'saliency' is not known; allowed: lime, shap, gradients, attention_maps"
    )


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([[1, 2, 3]], "instances[0]: has 3 values; the model takes 4 features"
                      " (features_0, features_1, features_2, features_3)"),
        ([[1, 2, "x", 4]], "instances[0][2]: must be a finite number, got 'x'"),
        ([{"features": [1, 2]}], "instances[0].features: has 2 values; the model takes 4"
                                 " features (features_0, features_1, features_2, features_3)"),
        ([{"features_0": 1}], "instances[0]: lacks feature 'features_1'; features:"
                              " features_0, features_1, features_2, features_3"),
        ([[1, 2, 3, 4]] * 17, "instances: 17 rows; at most 16 per request"),
    ],
)  # fmt: skip
def test_instances_of_the_wrong_shape_are_refused_naming_the_field(
    dominant: ExplainableModel, instances: list[object], message: str
) -> None:
    with pytest.raises(InputError) as excinfo:
        explain_prediction(instances, "gradients", model=dominant)

    assert str(excinfo.value) == message


def test_a_background_sample_keeps_at_most_the_rows_asked_for() -> None:
    background = Background(rows=normal_rows(50), source="captured")

    assert background.sample(20).shape == (20, 4)
    assert background.sample(80).shape == (50, 4)
