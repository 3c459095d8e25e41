"""The explanation methods: LIME, SHAP's KernelExplainer and integrated gradients.

`attention_maps` (the proposal's name) is integrated gradients here: tfprod's models have no
attention layers, so gradient attribution maps stand in for attention maps.

Every method explains one row at a time and returns each feature's attribution to the row's
explained value (see `tfprod.runtime.explain.model`):

- `lime`: the coefficients of LIME's local linear model (`LimeTabularExplainer`, regression
  mode, continuous features standardised on the background), per background standard
  deviation;
- `shap`: Shapley values from `shap.KernelExplainer` on at most `SHAP_BACKGROUND_ROWS` rows
  of the background; they sum to f(x) minus the mean prediction on those rows;
- `gradients` and `attention_maps`: integrated gradients with `tf.GradientTape` from the
  background's mean row (zeros for a zeros background) to the row, trapezoid rule over
  `IG_STEPS` steps; `completeness_error` = |sum(attributions) - (f(x) - f(baseline))|.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from tfprod.runtime.explain.background import Background, Source
from tfprod.runtime.explain.model import Array, ExplainableModel

METHODS: Final = ("lime", "shap", "gradients", "attention_maps")
GRADIENT_METHODS: Final = frozenset({"gradients", "attention_maps"})
LIME_SAMPLES = 2000
SHAP_BACKGROUND_ROWS = 20
IG_STEPS = 128
_SEED = 0


class ExplainError(ValueError):
    """The explanation cannot be computed for this model or input; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """One row explained. `ranking` lists the features by decreasing absolute attribution;
    `completeness_error` is set for the gradient methods only."""

    method: str
    version: str
    prediction: float
    attributions: Mapping[str, float]
    ranking: tuple[str, ...]
    background: Source
    completeness_error: float | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "method": self.method,
            "version": self.version,
            "prediction": self.prediction,
            "attributions": dict(self.attributions),
            "ranking": list(self.ranking),
        }
        if self.completeness_error is not None:
            document["completeness_error"] = self.completeness_error
        document["background"] = self.background
        return document


def explain_rows(
    model: ExplainableModel, rows: Array, method: str, background: Background, *, version: str
) -> list[Explanation]:
    """Each row of `rows` (rows x features) explained by `method` (one of `METHODS`)."""
    if method not in METHODS:
        raise ExplainError(f"method {method!r} is not known; allowed: {', '.join(METHODS)}")
    predictions = model.predict(rows)
    explained = []
    for row, prediction in zip(rows, predictions, strict=True):
        error = None
        if method == "lime":
            values = _lime(model, row, background)
        elif method == "shap":
            values = _shap(model, row, background)
        else:
            values, error = integrated_gradients(model, row, background.mean)
        names = model.feature_names
        ranking = tuple(names[index] for index in np.argsort(-np.abs(values), kind="stable"))
        explained.append(
            Explanation(
                method=method,
                version=version,
                prediction=float(prediction),
                attributions=dict(zip(names, map(float, values), strict=True)),
                ranking=ranking,
                background=background.source,
                completeness_error=error,
            )
        )
    return explained


def _lime(model: ExplainableModel, row: Array, background: Background) -> Array:
    from lime.lime_tabular import LimeTabularExplainer

    explainer = LimeTabularExplainer(
        background.rows,
        mode="regression",
        feature_names=list(model.feature_names),
        discretize_continuous=False,
        random_state=_SEED,
    )
    explanation = explainer.explain_instance(
        row, model.predict, num_features=len(row), num_samples=LIME_SAMPLES
    )
    values = np.zeros(len(row))
    for index, weight in explanation.local_exp[1]:
        values[index] = weight
    return values


def _shap(model: ExplainableModel, row: Array, background: Background) -> Array:
    with warnings.catch_warnings():
        # shap 0.51 builds its plot colour maps on import with a call matplotlib 3.11 marks
        # PendingDeprecationWarning; nothing of it is used here.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap

    explainer = shap.KernelExplainer(model.predict, background.sample(SHAP_BACKGROUND_ROWS))
    values = explainer.shap_values(row[None, :], silent=True)
    return np.asarray(values, dtype="float64").reshape(-1)


def integrated_gradients(
    model: ExplainableModel, row: Array, baseline: Array, *, steps: int = IG_STEPS
) -> tuple[Array, float]:
    """Attributions of `row` from `baseline`, and the completeness error."""
    import tensorflow as tf

    alphas = np.linspace(0.0, 1.0, steps + 1)[:, None]
    points = tf.constant(baseline + alphas * (row - baseline), dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(points)
        values = model.tensor_fn(points)
    gradients = tape.gradient(values, points)
    if gradients is None:
        raise ExplainError("the model's output has no gradient with respect to its inputs")
    grads = np.asarray(gradients.numpy(), dtype="float64")
    average = (grads[:-1] + grads[1:]).mean(axis=0) / 2.0
    attributions = np.asarray((row - baseline) * average, dtype="float64")
    outputs = np.asarray(values.numpy(), dtype="float64")
    error = abs(float(attributions.sum()) - float(outputs[-1] - outputs[0]))
    return attributions, error
