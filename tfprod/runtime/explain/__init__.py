"""Explanations of predictions: LIME, SHAP and integrated gradients, and the explainer process.

TensorFlow, LIME and SHAP are imported here only (the `explain` extra); the gateway reaches
the explainer over HTTP and never imports this package.
"""

from tfprod.runtime.explain.api import explain_prediction
from tfprod.runtime.explain.background import (
    Background,
    captured_background,
    profile_background,
    zero_background,
)
from tfprod.runtime.explain.methods import (
    METHODS,
    ExplainError,
    Explanation,
    explain_rows,
    integrated_gradients,
)
from tfprod.runtime.explain.model import ExplainableModel, ModelShapeError, load_model

__all__ = [
    "METHODS",
    "Background",
    "ExplainError",
    "ExplainableModel",
    "Explanation",
    "ModelShapeError",
    "captured_background",
    "explain_prediction",
    "explain_rows",
    "integrated_gradients",
    "load_model",
    "profile_background",
    "zero_background",
]
