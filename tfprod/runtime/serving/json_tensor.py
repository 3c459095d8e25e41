"""TF Serving's JSON tensor codec (`json_tensor.cc`), with its error strings.

Requests: row format (`"instances"`: a list, one element per batch row, either plain values or
objects keyed by input name) or columnar format (`"inputs"`: one value, or an object keyed by
input name). `{"b64": "..."}` carries binary DT_STRING values. Responses mirror the request:
`"predictions"` (row) or `"outputs"` (columnar); a single output is unwrapped, several become
objects keyed by output name. Outputs named `*_bytes` of type DT_STRING are written as b64.
Floats are written as TF Serving writes them: shortest `%g` form that round-trips, `.0` added
to whole numbers, `NaN`/`Infinity` as bare tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tfprod.runtime.serving.errors import ServingError, invalid_argument
from tfprod.runtime.serving.signatures import DT_STRING, DTYPES, TensorSpec, dtype_name

ROW = "row"
COLUMNAR = "columnar"
B64 = "b64"
BYTES_SUFFIX = "_bytes"
# numpy's limit on dimensions; deeper JSON lists are refused before building a tensor.
MAX_RANK = 64

_FLOAT32_MAX = float(np.finfo(np.float32).max)
# JSON integers accepted per integer DataType: the type's own range, so a value never wraps.
_INT_RANGES: dict[int, tuple[int, int]] = {
    3: (-(2**31), 2**31 - 1),  # int32
    4: (0, 2**8 - 1),  # uint8
    5: (-(2**15), 2**15 - 1),  # int16
    6: (-(2**7), 2**7 - 1),  # int8
    9: (-(2**63), 2**63 - 1),  # int64
    17: (0, 2**16 - 1),  # uint16
    22: (0, 2**32 - 1),  # uint32
    23: (0, 2**64 - 1),  # uint64
}
_FLOAT_TYPES = {1: (2**24 - 1, "float"), 2: (2**53 - 1, "double"), 19: (2**24 - 1, "float")}


# ---------------------------------------------------------------- parsing


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or INVALID_ARGUMENT as TF Serving words it."""
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as error:
        raise invalid_argument(f"JSON Parse error: {error.msg} at offset: {error.pos}") from None
    except UnicodeDecodeError as error:
        raise invalid_argument(
            f"JSON Parse error: Invalid encoding in string. at offset: {error.start}"
        ) from None
    except RecursionError:
        raise invalid_argument("JSON Parse error: Nesting too deep. at offset: 0") from None
    if not isinstance(doc, dict):
        raise _format_error(doc, "Is not object")
    return doc


def signature_name(doc: Mapping[str, Any]) -> str:
    value = doc.get("signature_name", "")
    if not isinstance(value, str):
        raise invalid_argument(
            f"JSON Value: {value_text(doc)} not formatted correctly. "
            "'signature_name' key must be a string value."
        )
    return value


def predict_inputs(
    doc: Mapping[str, Any], specs: Mapping[str, TensorSpec]
) -> tuple[dict[str, np.ndarray], str]:
    """The request's input tensors by alias, and its format (ROW or COLUMNAR)."""
    try:
        if "instances" in doc:
            if "inputs" in doc:
                raise _format_error(
                    doc,
                    "Not formatted correctly expecting only one of 'inputs' or 'instances' "
                    "keys to exist ",
                )
            instances = doc["instances"]
            if not isinstance(instances, list):
                raise _format_error(doc, "Excepting 'instances' to be an list/array")
            if not instances:
                raise _format_error(doc, "No values in 'instances' array")
            return _from_instances(instances, specs), ROW
        if "inputs" in doc:
            return _from_inputs(doc["inputs"], specs), COLUMNAR
    except RecursionError:
        raise invalid_argument("JSON Value nested too deeply") from None
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _from_instances(instances: list[Any], specs: Mapping[str, TensorSpec]) -> dict[str, np.ndarray]:
    if not isinstance(instances[0], dict) and len(specs) > 1:
        raise invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input "
            "tensors required as per tensorinfo_map"
        )
    objects = _is_element_object(instances[0])
    names = sorted(specs)
    values: dict[str, list[Any]] = {}
    shapes: dict[str, tuple[list[int], int]] = {}
    for index, element in enumerate(instances):
        if objects:
            if not _is_element_object(element):
                raise invalid_argument(
                    f"Expecting object but got list at item {index} of input list"
                )
            for name, item in element.items():
                try:
                    _add_instance_item(item, name, specs, values, shapes)
                except ServingError as error:
                    raise invalid_argument(
                        f"Failed to process element: {index} key: {name} of 'instances' list. "
                        f"Error: {error.status_string()}"
                    ) from None
            if sorted(element) != names:
                raise invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{value_text(element)} keys must be equal to: {','.join(names)}"
                )
        else:
            if _is_element_object(element):
                raise invalid_argument(
                    f"Expecting value/list but got object at item {index} of input list"
                )
            try:
                _add_instance_item(element, names[0], specs, values, shapes)
            except ServingError as error:
                raise invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. "
                    f"Error: {error.status_string()}"
                ) from None
    return {
        name: _array(values[name], [len(instances), *shapes[name][0]], specs[name].dtype)
        for name in values
    }


def _add_instance_item(
    item: Any,
    name: str,
    specs: Mapping[str, TensorSpec],
    values: dict[str, list[Any]],
    shapes: dict[str, tuple[list[int], int]],
) -> None:
    if name not in specs:
        raise invalid_argument(f"JSON object: does not have named input: {name}")
    shape = _dense_shape(item)
    flat: list[Any] = []
    _fill(item, 0, shape, specs[name].dtype, flat)
    if name not in shapes:
        shapes[name] = (shape, len(flat))
        values[name] = flat
        return
    expected_shape, expected_size = shapes[name]
    if expected_size != len(flat):
        raise invalid_argument(f"Expecting tensor size: {expected_size} but got: {len(flat)}")
    if expected_shape != shape:
        raise invalid_argument(
            f"Expecting shape {_shape_text(expected_shape)} but got: {_shape_text(shape)}"
        )
    values[name].extend(flat)


def _from_inputs(value: Any, specs: Mapping[str, TensorSpec]) -> dict[str, np.ndarray]:
    if not isinstance(value, dict) or _is_b64(value):
        if len(specs) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map"
            )
        (name,) = specs
        return {name: _tensor(value, specs[name].dtype)}
    tensors = {}
    for name in sorted(specs):
        if name not in value:
            raise invalid_argument(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = _tensor(value[name], specs[name].dtype)
    return tensors


def _tensor(value: Any, dtype: int) -> np.ndarray:
    shape = _dense_shape(value)
    flat: list[Any] = []
    _fill(value, 0, shape, dtype, flat)
    return _array(flat, shape, dtype)


def _dense_shape(value: Any) -> list[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value: Any, level: int, shape: list[int], dtype: int, out: list[Any]) -> None:
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise invalid_argument(
                f"JSON Value: {value_text(value)} found at incorrect level: {level + 1} in the "
                f"JSON DOM. Expected at level: {rank}"
            )
        if isinstance(value, dict):
            if dtype != DT_STRING:
                raise _type_error(value, dtype)
            out.append(_decode_b64(value))
        else:
            out.append(_scalar(value, dtype))
        return
    if level >= rank:
        raise invalid_argument(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected "
            f"size: {shape[level]}"
        )
    for element in value:
        _fill(element, level + 1, shape, dtype, out)


def _scalar(value: Any, dtype: int) -> Any:
    if dtype in _FLOAT_TYPES:
        if not _is_number(value):
            raise _type_error(value, dtype)
        max_int, target = _FLOAT_TYPES[dtype]
        if not _lossless(value, max_int, single=target == "float"):
            raise invalid_argument(
                f"Cannot convert JSON value: {value_text(value)} to {target} without loss of "
                "precision."
            )
        return float(value)
    if dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        if not (_is_int(value) and low <= value <= high):
            raise _type_error(value, dtype)
        return value
    if dtype == DT_STRING:
        if not isinstance(value, str):
            raise _type_error(value, dtype)
        return value.encode("utf-8", "surrogatepass")
    if dtype == 10:  # bool
        if not isinstance(value, bool):
            raise _type_error(value, dtype)
        return value
    raise ServingError(
        "UNIMPLEMENTED",
        f"Conversion of JSON Value: {value_text(value)} to type: {dtype_name(dtype)}",
    )


def _lossless(value: float | int, max_int: int, *, single: bool) -> bool:
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return abs(value) <= max_int
    try:
        number = float(value)
    except OverflowError:
        return False
    if not math.isfinite(number):
        return isinstance(value, float)
    limit = _FLOAT32_MAX if single else float(np.finfo(np.float64).max)
    return -limit <= number <= limit


def _array(flat: list[Any], shape: Sequence[int], dtype: int) -> np.ndarray:
    if len(shape) > MAX_RANK:
        raise invalid_argument(
            f"Tensor of rank {len(shape)} exceeds the maximum rank of {MAX_RANK}"
        )
    if dtype == DT_STRING:
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    return np.array(flat, dtype=DTYPES[dtype][1]).reshape(shape)


def _decode_b64(value: dict[str, Any]) -> bytes:
    if not _is_b64(value):
        raise invalid_argument(
            f"JSON Value: {value_text(value)} not formatted correctly for base64 data"
        )
    try:
        return base64.b64decode(value[B64], validate=True)
    except (binascii.Error, ValueError):
        raise invalid_argument("Unable to base64 decode") from None


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(B64), str)


def _is_element_object(value: Any) -> bool:
    return isinstance(value, dict) and not _is_b64(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_error(value: Any, dtype: int) -> ServingError:
    return invalid_argument(
        f"JSON Value: {value_text(value)} Type: {json_type(value)} is not of expected type: "
        f"{dtype_name(dtype)}"
    )


def _format_error(value: Any, message: str) -> ServingError:
    return invalid_argument(f"JSON Value: {value_text(value)} {message}")


def _shape_text(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(size) for size in shape) + "]"


def json_type(value: Any) -> str:
    """The JSON type name as TF Serving's error messages spell it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def value_text(value: Any) -> str:
    """A JSON value as TF Serving quotes it in error messages (pretty-printed, 4 spaces)."""
    if isinstance(value, float):
        return format_decimal(value, single=False)
    try:
        return json.dumps(value, indent=4, ensure_ascii=False)
    except RecursionError:
        return f"<{json_type(value)} nested too deeply to print>"


# ---------------------------------------------------------------- examples (classify, regress)


def examples_request(doc: Mapping[str, Any]) -> tuple[list[Any], Any | None]:
    """The `examples` (and optional `context`) of a classify/regress body, as tf.Example."""
    context = None
    if "context" in doc:
        context = _example(doc["context"])
    if "examples" not in doc:
        raise _format_error(
            doc, "When method is classify, key 'examples' is expected and was not found"
        )
    examples = doc["examples"]
    if not isinstance(examples, list):
        raise _format_error(doc, "Expecting 'examples' value to be an list/array")
    if not examples:
        raise _format_error(doc, "'examples' value is an empty array")
    return [_example(example) for example in examples], context


def _example(value: Any) -> Any:
    from tensorflow.core.example import example_pb2, feature_pb2

    if not isinstance(value, dict):
        raise invalid_argument(f"Example must be JSON object but got JSON {json_type(value)}")
    example = example_pb2.Example()
    for name, content in value.items():
        feature = feature_pb2.Feature()
        for element in content if isinstance(content, list) else [content]:
            _add_to_feature(element, name, feature)
        example.features.feature[name].CopyFrom(feature)
    return example


def _add_to_feature(value: Any, name: str, feature: Any) -> None:
    def check_kind(kind: str) -> None:
        current = feature.WhichOneof("kind")
        if current not in (None, kind):
            raise invalid_argument(
                f"Unexpected element type in feature: {name} expecting type: "
                f"{current.removesuffix('_list')}"
            )

    if value is None or isinstance(value, list) or (isinstance(value, dict) and not _is_b64(value)):
        raise invalid_argument(
            f"Feature: {name} has element with unexpected JSON type: {json_type(value)}"
        )
    if isinstance(value, bool):
        check_kind("int64_list")
        feature.int64_list.value.append(int(value))
    elif isinstance(value, dict):
        check_kind("bytes_list")
        feature.bytes_list.value.append(_decode_b64(value))
    elif isinstance(value, str):
        check_kind("bytes_list")
        feature.bytes_list.value.append(value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, int) and value < 2**64:
        check_kind("int64_list")
        if not -(2**63) <= value < 2**63:
            raise invalid_argument(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(value)
    else:
        check_kind("float_list")
        if not _lossless(value, 2**24 - 1, single=True):
            raise invalid_argument(
                f"Cannot convert JSON value: {value_text(value)} to float without loss of "
                "precision."
            )
        feature.float_list.value.append(float(value))


# ---------------------------------------------------------------- writing


def format_decimal(value: float, *, single: bool) -> str:
    """A float as TF Serving writes it: `%g`, or full precision when `%g` does not round-trip."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = f"{value:g}"
    round_trip = float(np.float32(text)) if single else float(text)
    if round_trip != value:
        text = f"{value:.9g}" if single else f"{value:.17g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _writer(array: np.ndarray, as_bytes: bool) -> Callable[[Any], str]:
    kind = array.dtype.kind
    if kind == "f":
        single = array.dtype.itemsize <= 4
        return lambda value: format_decimal(value, single=single)
    if kind == "b":
        return lambda value: "true" if value else "false"
    if kind in "iu":
        return str
    if as_bytes:
        return lambda value: '{"b64": "' + base64.b64encode(value).decode("ascii") + '"}'
    return lambda value: json.dumps(
        value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value),
        ensure_ascii=False,
    )


def _nested(value: Any, write: Callable[[Any], str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(element, write) for element in value) + "]"
    return write(value)


def _tensor_text(name: str, array: np.ndarray, value: Any) -> str:
    as_bytes = array.dtype == np.object_ and name.endswith(BYTES_SUFFIX)
    return _nested(value, _writer(array, as_bytes))


def predict_response(outputs: Mapping[str, np.ndarray], fmt: str) -> bytes:
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    if fmt == ROW:
        return _row_response(outputs)
    names = sorted(outputs)
    if len(names) == 1:
        body = _tensor_text(names[0], outputs[names[0]], outputs[names[0]].tolist())
    else:
        body = (
            "{"
            + ", ".join(
                f"{json.dumps(name)}: {_tensor_text(name, outputs[name], outputs[name].tolist())}"
                for name in names
            )
            + "}"
        )
    return ('{\n    "outputs": ' + body + "\n}").encode()


def _row_response(outputs: Mapping[str, np.ndarray]) -> bytes:
    names = sorted(outputs)
    batch = -1
    for name in names:
        array = outputs[name]
        if array.ndim == 0:
            raise invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch >= 0 and array.shape[0] != batch:
            raise invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} "
                f"expecting: {batch}"
            )
        batch = array.shape[0]
    rows = {name: outputs[name].tolist() for name in names}
    items = []
    for index in range(batch):
        if len(names) == 1:
            name = names[0]
            items.append(_tensor_text(name, outputs[name], rows[name][index]))
        else:
            items.append(
                "{"
                + ", ".join(
                    f"{json.dumps(name)}: {_tensor_text(name, outputs[name], rows[name][index])}"
                    for name in names
                )
                + "}"
            )
    body = "[" + ", ".join(items) + "\n    ]" if items else "[]"
    return ('{\n    "predictions": ' + body + "\n}").encode()


def classify_response(results: Sequence[Sequence[tuple[str, float]]]) -> bytes:
    if not results:
        raise invalid_argument("Cannot convert empty ClassificationResults to JSON")
    rows = [
        "["
        + ", ".join(
            f"[{json.dumps(label, ensure_ascii=False)}, {format_decimal(score, single=True)}]"
            for label, score in row
        )
        + "]"
        for row in results
    ]
    return ('{\n    "results": [' + ", ".join(rows) + "\n    ]\n}").encode()


def regress_response(values: Sequence[float]) -> bytes:
    if not values:
        raise invalid_argument("Cannot convert empty RegressionResults to JSON")
    body = ", ".join(format_decimal(value, single=True) for value in values)
    return ('{\n    "results": [' + body + "]\n}").encode()


def error_body(message: str) -> bytes:
    """`{"error": message}` as TF Serving writes it."""
    return ('{\n    "error": ' + json.dumps(message) + "\n}").encode()
