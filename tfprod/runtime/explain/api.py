"""`explain_prediction`: the explainers called from Python, on a model at hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tfprod.runtime.explain.background import Background, profile_background, zero_background
from tfprod.runtime.explain.methods import Explanation, explain_rows
from tfprod.runtime.explain.model import ExplainableModel, load_model
from tfprod.runtime.registry import ReferenceProfile


def explain_prediction(
    input_data: Any,
    method: str,
    *,
    model: Any,
    feature_names: Sequence[str] = (),
    background: Any = None,
    version: str = "",
) -> list[Explanation]:
    """Each row of `input_data` explained by `method` (lime, shap, gradients, attention_maps).

    - `input_data`: one row, a 2-D array of rows, or instances as an explain request holds
      them (lists of values or objects naming the features).
    - `model`: a SavedModel directory, an object `tf.saved_model.load` returned, or an
      `ExplainableModel`.
    - `feature_names`: names of the model's features, in order. Default: from the signature.
    - `background`: rows (a 2-D array; the result says "given"), a `ReferenceProfile`, or a
      `Background`. Default:
      None, one row of zeros (the result's `background` is then "zeros").
    - `version`: reported in each result's `version`. Default: "".
    """
    from tfprod.runtime.explain.inputs import as_rows

    explainable = (
        model
        if isinstance(model, ExplainableModel)
        else load_model(model, feature_names=feature_names)
    )
    rows = as_rows(input_data, explainable)
    return explain_rows(
        explainable, rows, method, _background(background, explainable), version=version
    )


def _background(given: Any, model: ExplainableModel) -> Background:
    features = len(model.feature_names)
    if given is None:
        return zero_background(features)
    if isinstance(given, Background):
        return given
    if isinstance(given, ReferenceProfile):
        drawn = profile_background(given, model.feature_names)
        if drawn is None:
            raise ValueError(
                f"background: the profile has no numeric features {', '.join(model.feature_names)}"
            )
        return drawn
    rows = np.asarray(given, dtype="float64")
    if rows.ndim != 2 or rows.shape[1] != features or len(rows) == 0:
        raise ValueError(f"background: must be rows x {features} features, got shape {rows.shape}")
    return Background(rows=rows, source="given")
