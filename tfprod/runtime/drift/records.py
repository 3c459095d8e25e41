"""Feature values out of captured TF Serving bodies (`CaptureRecord.request` / `.response`).

Requests: the row format (`{"instances": [...]}`, each instance a list of feature values in
the reference's feature order, or an object naming them) or the columnar format
(`{"inputs": {"name": [...], ...}}`, or a list of rows). Answers: `predictions` (or
`outputs`) rows, flattened, their columns named "0", "1", ... as `build_profile` names a
2-D `predictions` array. A body of another shape yields no rows (a request whose rows cannot
be read tells nothing about drift, and is counted by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tfprod.runtime.drift.stats import Array

Encode = Callable[[str, Any], float]


def request_rows(
    body: str, names: Sequence[str], encode: Encode, *, numeric: bool = False
) -> Array | None:
    """The request's rows (rows x features, encoded), or None if it holds none readable.
    `numeric` (every feature is numeric) lets list rows convert in one step."""
    document = _json(body)
    if not isinstance(document, dict):
        return None
    instances = document.get("instances", document.get("inputs"))
    if isinstance(instances, dict):  # columnar: name -> values
        columns = [instances.get(name) for name in names]
        if not all(isinstance(column, list) for column in columns):
            return None
        length = {len(column) for column in columns if isinstance(column, list)}
        if len(length) != 1:
            return None
        instances = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    if not isinstance(instances, list) or not instances:
        return None
    return _instance_rows(instances, names, encode, numeric)


def _instance_rows(
    instances: list[Any], names: Sequence[str], encode: Encode, numeric: bool
) -> Array | None:
    if numeric and all(isinstance(row, list) and len(row) == len(names) for row in instances):
        try:  # all-numeric rows: one conversion (None becomes NaN, missing)
            return np.array(instances, dtype="float64")
        except (TypeError, ValueError):
            pass  # strings among the values: encoded one by one below
    rows = np.empty((len(instances), len(names)))
    for index, instance in enumerate(instances):
        if isinstance(instance, dict):
            values = [instance.get(name) for name in names]
        elif isinstance(instance, list) and len(instance) == len(names):
            values = instance
        else:
            return None
        rows[index] = [encode(name, value) for name, value in zip(names, values, strict=True)]
    return rows


def answer_rows(body: str, names: Sequence[str], encode: Encode) -> Array | None:
    """The answer's prediction rows (rows x outputs, encoded), or None."""
    document = _json(body)
    if not isinstance(document, dict):
        return None
    predictions = document.get("predictions", document.get("outputs"))
    if isinstance(predictions, dict):  # several named outputs, one row per instance
        columns = [predictions[key] for key in sorted(predictions)]
        predictions = [list(row) for row in zip(*columns, strict=False)]
    if not isinstance(predictions, list) or not predictions:
        return None
    rows = np.empty((len(predictions), len(names)))
    for index, row in enumerate(predictions):
        flat = _flatten(row)
        if len(flat) != len(names):
            return None
        rows[index] = [encode(name, value) for name, value in zip(names, flat, strict=True)]
    return rows


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [item for key in sorted(value) for item in _flatten(value[key])]
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
