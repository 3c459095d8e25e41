"""The `instances` of an explain request, read into rows of features.

An instance is a list of the feature values in order, an object naming every feature, or,
for a model whose one input holds the whole row, an object `{"<input>": [values...]}`, as TF
Serving's row format writes it. Errors name the field, the bad value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tfprod.runtime.explain.model import Array, ExplainableModel

MAX_INSTANCES = 16
"""Rows one request may ask to explain."""


class InputError(ValueError):
    """The request is malformed; the message names the field, the value and what is allowed."""


def read_rows(instances: Any, model: ExplainableModel) -> Array:
    names = model.feature_names
    if not isinstance(instances, list) or not instances:
        raise InputError(f"instances: must be a non-empty list of rows, got {_show(instances)}")
    if len(instances) > MAX_INSTANCES:
        raise InputError(f"instances: {len(instances)} rows; at most {MAX_INSTANCES} per request")
    rows = np.empty((len(instances), len(names)))
    for index, instance in enumerate(instances):
        rows[index] = _row(instance, f"instances[{index}]", model)
    return rows


def _row(instance: Any, where: str, model: ExplainableModel) -> list[float]:
    names = model.feature_names
    if isinstance(instance, dict) and model.row_input is not None and model.row_input in instance:
        instance = instance[model.row_input]
        where = f"{where}.{model.row_input}"
    if isinstance(instance, dict):
        missing = [name for name in names if name not in instance]
        if missing:
            raise InputError(f"{where}: lacks feature {missing[0]!r}; features: {', '.join(names)}")
        return [_number(instance[name], f"{where}.{name}") for name in names]
    if isinstance(instance, list):
        if len(instance) != len(names):
            raise InputError(
                f"{where}: has {len(instance)} values; the model takes {len(names)}"
                f" features ({', '.join(names)})"
            )
        return [_number(value, f"{where}[{i}]") for i, value in enumerate(instance)]
    raise InputError(
        f"{where}: must be a list of {len(names)} numbers or an object naming the features,"
        f" got {_show(instance)}"
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: must be a finite number, got {_show(value)}")
    return float(value)


def as_rows(data: Any, model: ExplainableModel) -> Array:
    """Python input: a 2-D array-like of rows, one row, or instances as in a request."""
    if isinstance(data, np.ndarray):
        array = np.asarray(data, dtype="float64")
        array = array.reshape(1, -1) if array.ndim == 1 else array
        return read_rows(array.tolist(), model)
    if isinstance(data, dict) or (
        isinstance(data, Sequence) and data and not isinstance(data[0], list | dict)
    ):
        return read_rows([data if isinstance(data, dict) else list(data)], model)
    return read_rows(list(data), model)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
