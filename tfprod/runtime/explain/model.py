"""A SavedModel seen as a function of one row of features, for the explainers.

Two signature layouts are read:

- one input of shape [-1, n] (e.g. `features` float32 [None, 4]): the features are its `n`
  columns, named `<input>_0` ... `<input>_{n-1}` from the signature;
- several inputs of shape [-1] or [-1, 1] (one scalar feature each): the features are the
  inputs, named by their aliases in sorted order.

The explained value of a row is its output (the signature's only output, or its first alias
in sorted order): the single value of a [-1] or [-1, 1] output, or for a [-1, k] output the
column the row predicts (its largest). `feature_names` (the Policy's `debugger.features`)
renames the features when given: it must name each of them once, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
FeatureSource = Literal["policy", "signature"]
DEFAULT_SIGNATURE = "serving_default"


class ModelShapeError(ValueError):
    """The model's signature is not one the explainers read (see the module docstring)."""


@dataclass(frozen=True, kw_only=True)
class ExplainableModel:
    """`predict` maps rows (rows x features) to the explained value of each row; `tensor_fn`
    is the same as a TensorFlow function of a float32 tensor, for gradients."""

    feature_names: tuple[str, ...]
    feature_source: FeatureSource
    """Where the names come from: the Policy's `debugger.features` or the model signature."""
    tensor_fn: Callable[[Any], Any]
    row_input: str | None = None
    """The input holding a whole row (the [-1, n] layout), else None."""
    keepalive: Any = None
    """The loaded SavedModel, kept alive so its concrete functions stay valid."""

    def predict(self, rows: Array) -> Array:
        import tensorflow as tf

        values = self.tensor_fn(tf.constant(np.asarray(rows, dtype="float32")))
        return np.asarray(values.numpy(), dtype="float64")


def load_model(
    model: Any, *, feature_names: Sequence[str] = (), signature: str = DEFAULT_SIGNATURE
) -> ExplainableModel:
    """`model` as an `ExplainableModel`: a SavedModel directory (str or Path) or an object
    `tf.saved_model.load` returned."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(model)) if isinstance(model, str | Path) else model
    signatures = getattr(loaded, "signatures", {})
    if signature not in signatures:
        raise ModelShapeError(
            f"the model has no signature {signature!r}; signatures: {', '.join(signatures) or '-'}"
        )
    function = signatures[signature]
    inputs = function.structured_input_signature[1]
    outputs = function.structured_outputs
    if not inputs or not outputs:
        raise ModelShapeError(f"signature {signature!r} has no named inputs or outputs")
    output = sorted(outputs)[0]
    names, split, row_input = _layout(inputs)
    if feature_names:
        if len(feature_names) != len(names):
            raise ModelShapeError(
                f"debugger features name {len(feature_names)} features"
                f" ({', '.join(feature_names)}); the model takes {len(names)}"
                f" ({', '.join(names)})"
            )
        names = tuple(feature_names)

    def tensor_fn(rows: Any) -> Any:
        answer = function(**split(rows))[output]
        answer = tf.cast(tf.reshape(answer, [tf.shape(answer)[0], -1]), tf.float32)
        if answer.shape[-1] == 1:
            return answer[:, 0]
        chosen = tf.argmax(tf.stop_gradient(answer), axis=1)
        return tf.gather(answer, chosen, axis=1, batch_dims=1)

    return ExplainableModel(
        feature_names=names,
        feature_source="policy" if feature_names else "signature",
        tensor_fn=tensor_fn,
        row_input=row_input,
        keepalive=loaded,
    )


def _layout(
    inputs: dict[str, Any],
) -> tuple[tuple[str, ...], Callable[[Any], dict[str, Any]], str | None]:
    """Feature names, how a float32 rows tensor becomes the signature's inputs, and the input
    holding a whole row (None: one input per feature)."""
    import tensorflow as tf

    for alias, spec in inputs.items():
        if not spec.dtype.is_floating and not spec.dtype.is_integer:
            raise ModelShapeError(
                f"input {alias!r} is {spec.dtype.name}; the explainers need numeric inputs"
            )
    if len(inputs) == 1:
        ((alias, spec),) = inputs.items()
        shape = spec.shape.as_list() if spec.shape.rank is not None else None
        if shape is not None and len(shape) == 2 and shape[1] is not None:
            names = tuple(f"{alias}_{index}" for index in range(shape[1]))
            return names, lambda rows: {alias: tf.cast(rows, spec.dtype)}, alias
    aliases = sorted(inputs)
    for alias in aliases:
        shape = inputs[alias].shape.as_list() if inputs[alias].shape.rank is not None else None
        if shape is None or not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise ModelShapeError(
                f"input {alias!r} has shape {shape}; the explainers read one input of shape"
                " [-1, n] or several of shape [-1] or [-1, 1]"
            )

    def split(rows: Any) -> dict[str, Any]:
        columns = {}
        for index, alias in enumerate(aliases):
            spec = inputs[alias]
            column = tf.cast(rows[:, index], spec.dtype)
            columns[alias] = column if spec.shape.rank == 1 else column[:, None]
        return columns

    return tuple(aliases), split, None
