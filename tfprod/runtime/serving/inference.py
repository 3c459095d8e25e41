"""Classify and Regress on serialized `tf.Example`s, shared by the REST and gRPC front ends.

As in TF Serving, these need a signature whose method name says so and whose single input
takes the serialized examples; results come from the `classes`/`scores` or `outputs` outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tfprod.runtime.serving.errors import invalid_argument
from tfprod.runtime.serving.models import ServableVersion
from tfprod.runtime.serving.signatures import (
    CLASSIFY_CLASSES,
    CLASSIFY_METHOD,
    CLASSIFY_SCORES,
    REGRESS_METHOD,
    REGRESS_OUTPUTS,
    Signature,
)

Classes = list[list[tuple[str, float]]]


def serialize_examples(examples: Sequence[Any], context: Any | None) -> list[bytes]:
    """Each example with the context's features merged under its own (the example wins)."""
    if not examples:
        raise invalid_argument("Input is empty.")
    if context is None:
        return [example.SerializeToString() for example in examples]
    merged = []
    for example in examples:
        combined = type(example)()
        combined.CopyFrom(context)
        combined.MergeFrom(example)
        merged.append(combined.SerializeToString())
    return merged


def classify(version: ServableVersion, signature_key: str, examples: list[bytes]) -> Classes:
    signature = _checked(version, signature_key, CLASSIFY_METHOD, "classification")
    if CLASSIFY_CLASSES not in signature.outputs and CLASSIFY_SCORES not in signature.outputs:
        raise invalid_argument(
            f'Expected classification signature outputs to contain "{CLASSIFY_CLASSES}" or '
            f'"{CLASSIFY_SCORES}".'
        )
    outputs = _run(signature, examples)
    count = len(examples)
    labels = _rows(outputs.get(CLASSIFY_CLASSES), count)
    values = _rows(outputs.get(CLASSIFY_SCORES), count)
    width = max(matrix.shape[1] for matrix in (labels, values) if matrix is not None)
    return [
        [
            (
                labels[row, k].decode("utf-8", "replace") if labels is not None else "",
                float(values[row, k]) if values is not None else 0.0,
            )
            for k in range(width)
        ]
        for row in range(count)
    ]


def _rows(value: np.ndarray | None, count: int) -> np.ndarray | None:
    return None if value is None else value.reshape(count, -1)


def regress(version: ServableVersion, signature_key: str, examples: list[bytes]) -> list[float]:
    signature = _checked(version, signature_key, REGRESS_METHOD, "regression")
    if REGRESS_OUTPUTS not in signature.outputs:
        raise invalid_argument(f'No regression output "{REGRESS_OUTPUTS}" in signature.')
    values = _run(signature, examples)[REGRESS_OUTPUTS]
    return [float(value) for value in values.reshape(len(examples), -1)[:, 0]]


def _checked(version: ServableVersion, key: str, method: str, kind: str) -> Signature:
    signature = version.signature(key)
    if signature.method_name != method:
        raise invalid_argument(
            f"Expected {kind} signature method_name to be {method}. Was: {signature.method_name}"
        )
    if len(signature.inputs) != 1:
        raise invalid_argument("Expected one input Tensor.")
    return signature


def _run(signature: Signature, examples: list[bytes]) -> dict[str, np.ndarray]:
    (alias,) = signature.inputs
    batch = np.empty(len(examples), dtype=object)
    batch[:] = examples
    outputs = signature.run({alias: batch})
    for name, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != len(examples):
            raise invalid_argument(
                f"Output tensor {name} has shape {list(value.shape)}; expected the first "
                f"dimension to be the number of examples, {len(examples)}"
            )
    return outputs
