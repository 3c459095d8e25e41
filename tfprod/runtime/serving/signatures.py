"""One SavedModel signature: its declared inputs/outputs and how to run it.

The signature's concrete function is called directly (no Keras `predict`, no retracing): inputs
are checked against the SignatureDef first, so a bad request never reaches TensorFlow's
tracing machinery and every failure becomes a `ServingError` with a client-facing code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfprod.runtime.serving.errors import ServingError, invalid_argument

PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
CLASSIFY_CLASSES = "classes"
CLASSIFY_SCORES = "scores"
REGRESS_OUTPUTS = "outputs"

# DataType enum value -> (name as TF's DataTypeString prints it, numpy dtype).
DTYPES: dict[int, tuple[str, Any]] = {
    1: ("float", np.float32),
    2: ("double", np.float64),
    3: ("int32", np.int32),
    4: ("uint8", np.uint8),
    5: ("int16", np.int16),
    6: ("int8", np.int8),
    7: ("string", np.object_),
    9: ("int64", np.int64),
    10: ("bool", np.bool_),
    17: ("uint16", np.uint16),
    19: ("half", np.float16),
    22: ("uint32", np.uint32),
    23: ("uint64", np.uint64),
}
DT_STRING = 7


def dtype_name(dtype: int) -> str:
    return DTYPES[dtype][0] if dtype in DTYPES else f"type {dtype}"


@dataclass(frozen=True, kw_only=True)
class TensorSpec:
    """An input or output as the SignatureDef declares it."""

    dtype: int
    shape: tuple[int, ...] | None
    """Dimension sizes, -1 for unknown; None when the rank itself is unknown."""


@dataclass(frozen=True, kw_only=True)
class Signature:
    key: str
    method_name: str
    inputs: Mapping[str, TensorSpec]
    outputs: Mapping[str, TensorSpec]
    function: Callable[..., Mapping[str, Any]]

    def run(
        self, inputs: Mapping[str, np.ndarray], output_filter: Sequence[str] = ()
    ) -> dict[str, np.ndarray]:
        """Runs the signature; `inputs` must already hold every declared input by alias."""
        self._check_inputs(inputs)
        for alias in output_filter:
            if alias not in self.outputs:
                raise invalid_argument(
                    f"output tensor alias not found in signature: {alias} Outputs expected to "
                    f"be in the set {{{','.join(sorted(self.outputs))}}}."
                )
        import tensorflow as tf

        try:
            tensors = {
                alias: tf.constant(value, dtype=tf.dtypes.as_dtype(self.inputs[alias].dtype))
                for alias, value in inputs.items()
            }
            results = self.function(**tensors)
        except tf.errors.OpError as error:
            raise ServingError(_code_name(error.error_code), error.message) from None
        except (TypeError, ValueError) as error:
            raise invalid_argument(str(error).splitlines()[0]) from None
        wanted = output_filter or sorted(results)
        return {alias: results[alias].numpy() for alias in wanted}

    def _check_inputs(self, inputs: Mapping[str, np.ndarray]) -> None:
        if set(inputs) != set(self.inputs):
            sent = sorted(inputs)
            expected = sorted(self.inputs)
            extra = sorted(set(sent) - set(expected))
            if extra and len(sent) == len(expected):
                raise invalid_argument(
                    f"input tensor alias not found in signature: {extra[0]}. Inputs expected "
                    f"to be in the set {{{','.join(expected)}}}."
                )
            missing = sorted(set(expected) - set(sent))
            raise invalid_argument(
                f"input size does not match signature: {len(sent)}!={len(expected)} "
                f"len({{{','.join(sent)}}}) != len({{{','.join(expected)}}}). "
                f"Sent extra: {{{','.join(extra)}}}. "
                f"Missing but required: {{{','.join(missing)}}}."
            )
        for position, (alias, spec) in enumerate(sorted(self.inputs.items())):
            value = inputs[alias]
            got = _dtype_of(value)
            if got != spec.dtype:
                raise invalid_argument(
                    f"Expects arg[{position}] to be {dtype_name(spec.dtype)} but "
                    f"{dtype_name(got)} is provided"
                )
            if spec.shape is not None and not _shape_fits(value.shape, spec.shape):
                raise invalid_argument(
                    f"input tensor {alias} has shape {_shape_text(value.shape)} but the "
                    f"signature expects {_shape_text(spec.shape)} (-1: any size)"
                )


def _dtype_of(value: np.ndarray) -> int:
    if value.dtype == np.object_:
        return DT_STRING
    for enum, (_, numpy_dtype) in DTYPES.items():
        if enum != DT_STRING and value.dtype == numpy_dtype:
            return enum
    return 0


def _shape_fits(shape: tuple[int, ...], declared: tuple[int, ...]) -> bool:
    return len(shape) == len(declared) and all(
        want in (-1, got) for got, want in zip(shape, declared, strict=True)
    )


def _shape_text(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(size) for size in shape) + "]"


_CODE_NAMES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


def _code_name(code: int) -> str:
    return _CODE_NAMES.get(code, "UNKNOWN")


def signature_from_def(key: str, signature_def: Any, function: Callable[..., Any]) -> Signature:
    """Builds a `Signature` from a `SignatureDef` proto and the loaded concrete function."""
    return Signature(
        key=key,
        method_name=signature_def.method_name,
        inputs=_specs(signature_def.inputs),
        outputs=_specs(signature_def.outputs),
        function=function,
    )


def _specs(tensor_infos: Any) -> dict[str, TensorSpec]:
    specs = {}
    for alias, info in sorted(tensor_infos.items()):
        shape = info.tensor_shape
        specs[alias] = TensorSpec(
            dtype=info.dtype,
            shape=None if shape.unknown_rank else tuple(dim.size for dim in shape.dim),
        )
    return specs
