"""Fuzzed request bodies: the server never answers 5xx or drops the connection, and every
refusal is a 400 (or 404 for an unknown model) with TF Serving's `{"error": "..."}` body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tfprod.runtime.serving import ModelServerHandle

PATHS = [
    "/v1/models/tiny:predict",
    "/v1/models/tiny/labels/stable:predict",
    "/v1/models/examples:predict",
    "/v1/models/examples:classify",
    "/v1/models/examples:regress",
    "/v1/models/tiny:classify",
    "/v1/models/nope:predict",
]
KEYS = ["instances", "inputs", "signature_name", "examples", "context", "features", "x", "b64"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["AAAA", "%%", "serving_default", "regress"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=24,
)
# Mostly well-formed shapes of numbers, so the fuzzer reaches the model, not only the parser.
rows = st.lists(
    st.lists(st.floats(-1e6, 1e6) | st.integers(-(2**40), 2**40), min_size=0, max_size=6),
    min_size=0,
    max_size=4,
)
# Valid for the tiny model (4 finite floats per row), so some requests succeed and the
# fuzzer also exercises the model call and the response writer.
valid_rows = st.lists(
    st.lists(st.floats(-1e6, 1e6, width=32), min_size=4, max_size=4), min_size=1, max_size=3
)
valid_examples = st.lists(
    st.fixed_dictionaries({"x": st.floats(-1e6, 1e6, width=32)}), min_size=1, max_size=3
)
well_formed = (
    st.fixed_dictionaries({"instances": valid_rows})
    | st.fixed_dictionaries({"inputs": valid_rows})
    | st.fixed_dictionaries(
        {"examples": valid_examples},
        optional={"signature_name": st.sampled_from(["regress", "serving_default"])},
    )
)
bodies = well_formed | st.fixed_dictionaries(
    {},
    optional={
        "instances": valid_rows | rows | json_values,
        "inputs": rows | json_values,
        "signature_name": st.sampled_from(["serving_default", "regress", ""]) | json_values,
        "examples": valid_examples
        | st.lists(
            st.dictionaries(st.sampled_from(["x", "y"]), json_values, max_size=2), max_size=3
        )
        | json_values,
        "context": json_values,
    },
)


@pytest.fixture(scope="module")
def client(server: ModelServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.endpoints.rest_url or "") as http:
        yield http


def assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.status_code in (400, 404), response.text
        body = response.json()
        assert list(body) == ["error"]
        assert isinstance(body["error"], str)


@pytest.mark.parametrize("path", ["/v1/models/%0a", "/v1/models/rec%0A:predict"])
def test_paths_with_a_newline_get_the_error_body_too(client: httpx.Client, path: str) -> None:
    assert_clean(client.post(path, content=b"{}"))


FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.slow
@FUZZ
@given(path=st.sampled_from(PATHS), body=bodies)
def test_fuzzed_json_bodies_never_get_a_server_error(
    client: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    assert_clean(client.post(path, content=json.dumps(body).encode()))


@pytest.mark.slow
@FUZZ
@given(path=st.sampled_from(PATHS), body=st.binary(max_size=300) | json_values.map(json.dumps))
def test_fuzzed_raw_bodies_get_400_with_an_error_body(
    client: httpx.Client, path: str, body: bytes | str
) -> None:
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    assert_clean(client.post(path, content=content))


@pytest.fixture(scope="module")
def prediction(server: ModelServerHandle) -> Iterator[Any]:
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(server.endpoints.grpc_target or "") as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


tensor_protos = st.builds(
    dict,
    dtype=st.sampled_from([0, 1, 2, 3, 7, 9, 10, 14, 19, 100]),
    dims=st.lists(st.integers(-2, 5), max_size=4),
    float_val=st.lists(st.floats(width=32), max_size=8),
    int_val=st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8),
    string_val=st.lists(st.binary(max_size=8), max_size=4),
    content=st.binary(max_size=40),
)


@pytest.mark.slow
@FUZZ
@given(
    name=st.sampled_from(["tiny", "examples", "nope", ""]),
    signature=st.sampled_from(["", "serving_default", "regress", "x"]),
    inputs=st.dictionaries(st.sampled_from(["features", "inputs", "other"]), tensor_protos),
)
def test_fuzzed_grpc_predicts_never_fail_internally(
    prediction: Any, name: str, signature: str, inputs: dict[str, dict[str, Any]]
) -> None:
    import grpc
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    for alias, fields in inputs.items():
        proto = request.inputs[alias]
        proto.dtype = fields["dtype"]
        for size in fields["dims"]:
            proto.tensor_shape.dim.add(size=size)
        proto.float_val.extend(fields["float_val"])
        proto.int_val.extend(fields["int_val"])
        proto.string_val.extend(fields["string_val"])
        proto.tensor_content = fields["content"]
    try:
        prediction.Predict(request, timeout=10)
    except grpc.RpcError as error:
        assert error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
            error.details()
        )
