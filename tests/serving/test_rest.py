"""TF Serving's REST API through plain HTTP: paths, bodies, error strings and status codes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.serving.conftest import Models
from tfprod.runtime.serving import ModelServerHandle

ROW = [0.5, -1.0, 2.0, 0.25]


def expected_probability(base_path: Path, version: int, row: list[float]) -> np.float32:
    """What the SavedModel itself computes, called directly with TensorFlow."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(base_path / str(version)))
    output = loaded.signatures["serving_default"](features=tf.constant([row], tf.float32))
    return np.float32(output["probability"].numpy()[0, 0])


@pytest.fixture(scope="module")
def client(server: ModelServerHandle) -> httpx.Client:
    assert server.endpoints.rest_url is not None
    with httpx.Client(base_url=server.endpoints.rest_url) as http:
        yield http


def post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=content)


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert response.headers["content-type"] == "application/json"


@pytest.mark.slow
def test_row_format_predicts_with_the_latest_version(client: httpx.Client, models: Models) -> None:
    response = post(client, "/v1/models/tiny:predict", {"instances": [ROW, ROW]})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    want = expected_probability(models.tiny, 2, ROW)
    assert [[np.float32(value) for value in row] for row in predictions] == [[want], [want]]


@pytest.mark.slow
def test_columnar_format_answers_outputs_with_the_same_values(client: httpx.Client) -> None:
    row = post(client, "/v1/models/tiny:predict", {"instances": [ROW]}).json()
    columnar = post(client, "/v1/models/tiny:predict", {"inputs": [ROW]})
    named = post(client, "/v1/models/tiny:predict", {"inputs": {"features": [ROW]}})
    objects = post(client, "/v1/models/tiny:predict", {"instances": [{"features": ROW}]})
    assert columnar.json() == named.json() == {"outputs": row["predictions"]}
    assert objects.json() == row


@pytest.mark.slow
def test_versions_and_labels_select_the_version(client: httpx.Client, models: Models) -> None:
    def probability(path: str) -> np.float32:
        return np.float32(post(client, path, {"instances": [ROW]}).json()["predictions"][0][0])

    first = expected_probability(models.tiny, 1, ROW)
    second = expected_probability(models.tiny, 2, ROW)
    assert first != second
    assert probability("/v1/models/tiny/versions/1:predict") == first
    assert probability("/v1/models/tiny/labels/stable:predict") == first
    assert probability("/v1/models/tiny/labels/canary:predict") == second
    assert probability("/V1/Models/tiny/Versions/2:predict") == second


@pytest.mark.slow
def test_row_response_is_written_as_tf_serving_writes_it(client: httpx.Client) -> None:
    text = post(client, "/v1/models/tiny:predict", {"instances": [ROW]}).text
    assert text.startswith('{\n    "predictions": [[0.') and text.endswith("]\n    ]\n}")


@pytest.mark.slow
def test_status_lists_served_versions_newest_first(client: httpx.Client) -> None:
    available = {"state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert client.get("/v1/models/tiny").json() == {
        "model_version_status": [{"version": "2", **available}, {"version": "1", **available}]
    }
    assert client.get("/v1/models/tiny/versions/1").json() == {
        "model_version_status": [{"version": "1", **available}]
    }
    assert_error(
        client.get("/v1/models/tiny/versions/3"), 404, "Could not find version 3 of model tiny"
    )
    assert_error(client.get("/v1/models/nope"), 404, "Could not find any versions of model nope")
    assert_error(client.get("/v1/models"), 400, "Missing model name in request.")


@pytest.mark.slow
def test_metadata_shows_the_signature_defs(client: httpx.Client) -> None:
    body = client.get("/v1/models/tiny/labels/stable/metadata").json()
    assert body["model_spec"] == {"name": "tiny", "signature_name": "", "version": "1"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert signature["inputs"]["features"]["dtype"] == "DT_FLOAT"
    assert signature["inputs"]["features"]["tensor_shape"] == {
        "dim": [{"size": "-1", "name": ""}, {"size": "4", "name": ""}],
        "unknown_rank": False,
    }
    assert signature["outputs"]["probability"]["dtype"] == "DT_FLOAT"


@pytest.mark.slow
def test_classify_answers_label_and_score_pairs(client: httpx.Client) -> None:
    response = post(
        client, "/v1/models/examples:classify", {"examples": [{"x": 0.0}, {"x": [0.0]}]}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"results": [[["neg", 0.5], ["pos", 0.5]]] * 2}


@pytest.mark.slow
def test_regress_merges_the_context_into_each_example(client: httpx.Client) -> None:
    body = {"signature_name": "regress", "context": {"x": 9.0}, "examples": [{"x": 1.5}, {}]}
    response = post(client, "/v1/models/examples:regress", body)
    assert (response.status_code, response.json()) == (200, {"results": [4.0, 19.0]})


@pytest.mark.slow
def test_classify_needs_a_classify_signature(client: httpx.Client) -> None:
    assert_error(
        post(client, "/v1/models/tiny:classify", {"examples": [{"x": 1.0}]}),
        400,
        "Expected classification signature method_name to be tensorflow/serving/classify. "
        "Was: tensorflow/serving/predict",
    )
    assert_error(
        post(client, "/v1/models/examples:regress", {"examples": [{"x": 1.0}]}),
        400,
        "Expected regression signature method_name to be tensorflow/serving/regress. "
        "Was: tensorflow/serving/classify",
    )


@pytest.mark.slow
def test_b64_values_feed_string_inputs(client: httpx.Client) -> None:
    import tensorflow as tf

    example = tf.train.Example(
        features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[0.0]))}
        )
    )
    encoded = base64.b64encode(example.SerializeToString()).decode()
    response = post(client, "/v1/models/examples:predict", {"instances": [{"b64": encoded}]})
    assert response.json() == {"predictions": [{"classes": ["neg", "pos"], "scores": [0.5, 0.5]}]}
    assert_error(
        post(client, "/v1/models/examples:predict", {"instances": [{"b64": "%%%"}]}),
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Unable to base64 decode",
    )


ERRORS = [
    (
        "/v1/models/nope:predict",
        {"instances": [ROW]},
        404,
        "Servable not found for request: Latest(nope)",
    ),
    (
        "/v1/models/tiny/versions/9:predict",
        {"instances": [ROW]},
        404,
        "Servable not found for request: Specific(tiny, 9)",
    ),
    (
        "/v1/models/tiny/labels/beta:predict",
        {"instances": [ROW]},
        400,
        "Unrecognized servable version label: beta",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [ROW], "signature_name": "other"},
        400,
        'Serving signature name: "other" not found in signature def',
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [ROW], "signature_name": 3},
        400,
        'JSON Value: {\n    "instances": [\n        [\n            0.5,\n            -1.0,\n'
        '            2.0,\n            0.25\n        ]\n    ],\n    "signature_name": 3\n} '
        "not formatted correctly. 'signature_name' key must be a string value.",
    ),
    ("/v1/models/tiny:predict", {"instance": [ROW]}, 400, "Missing 'inputs' or 'instances' key"),
    (
        "/v1/models/tiny:predict",
        {"instances": []},
        400,
        "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": 1, "inputs": 1},
        400,
        'JSON Value: {\n    "instances": 1,\n    "inputs": 1\n} Not formatted correctly expecting '
        "only one of 'inputs' or 'instances' keys to exist ",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [["1", 2, 3, 4]]},
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        'JSON Value: "1" Type: String is not of expected type: float',
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [[1, 2, 3, 4], [1, 2]]},
        400,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Expecting tensor size: 4 but got: 2",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [[1, [2], 3, 4]]},
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Encountered list at unexpected level: 1 expected < 1",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [{"feature": ROW}]},
        400,
        "Failed to process element: 0 key: feature of 'instances' list. Error: "
        "INVALID_ARGUMENT: JSON object: does not have named input: feature",
    ),
    (
        "/v1/models/tiny:predict",
        {"inputs": {"other": [ROW]}},
        400,
        "Missing named input: features in 'inputs' object.",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [[16777217, 0, 0, 0]]},
        400,
        "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
        "Cannot convert JSON value: 16777217 to float without loss of precision.",
    ),
    (
        "/v1/models/tiny:predict",
        {"instances": [[1, 2, 3]]},
        400,
        "input tensor features has shape [1,3] but the signature expects [-1,4] (-1: any size)",
    ),
    (
        "/v1/models/tiny:predict",
        b'{"instances": ' + b"[" * 65 + b"1" + b"]" * 65 + b"}",
        400,
        "Tensor of rank 65 exceeds the maximum rank of 64",
    ),
    (
        "/v1/models/tiny:predict",
        b"[" * 30_000 + b"]" * 30_000,
        400,
        "JSON Parse error: Nesting too deep. at offset: 0",
    ),
    ("/v1/models/tiny:predict", b"", 400, "JSON Parse error: The document is empty"),
    ("/v1/models/tiny:predict", b"[1]", 400, "JSON Value: [\n    1\n] Is not object"),
    (
        "/v1/models/tiny:predict",
        b'{"instances": ',
        400,
        "JSON Parse error: Expecting value at offset: 14",
    ),
    (
        "/v1/models/examples:classify",
        {"example": []},
        400,
        "JSON Value: {\n    \"example\": []\n} When method is classify, key 'examples' is expected "
        "and was not found",
    ),
    (
        "/v1/models/examples:classify",
        {"examples": [{"x": None}]},
        400,
        "Feature: x has element with unexpected JSON type: Null",
    ),
    (
        "/v1/models/examples:classify",
        {"examples": [{"x": [1, "a"]}]},
        400,
        "Unexpected element type in feature: x expecting type: int64",
    ),
    ("/v1/models/tiny:explain", {}, 400, "Malformed request: POST /v1/models/tiny:explain"),
    (
        "/v1/models/tiny/versions/1/labels/a:predict",
        {},
        400,
        "Malformed request: POST /v1/models/tiny/versions/1/labels/a:predict",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "body", "status", "message"), ERRORS)
def test_bad_requests_get_tf_serving_errors(
    client: httpx.Client, path: str, body: Any, status: int, message: str
) -> None:
    assert_error(post(client, path, body), status, message)


@pytest.mark.slow
def test_error_body_is_written_as_tf_serving_writes_it(client: httpx.Client) -> None:
    response = post(client, "/v1/models/tiny:predict", {})
    assert response.text == "{\n    \"error\": \"Missing 'inputs' or 'instances' key\"\n}"


@pytest.mark.slow
def test_paths_outside_v1_are_not_found(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (404, b"")
    assert_error(client.put("/v1/models/tiny"), 400, "Malformed request: PUT /v1/models/tiny")


@pytest.mark.slow
def test_oversized_bodies_are_refused_with_413(client: httpx.Client) -> None:
    message = "Request body exceeds the limit of 65536 bytes (--max_request_bytes)"
    big = b'{"instances": [' + b"0," * 40_000 + b"0]}"
    assert_error(post(client, "/v1/models/tiny:predict", big), 413, message)

    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 4096

    response = client.post("/v1/models/tiny:predict", content=chunks())
    assert_error(response, 413, message)
    assert post(client, "/v1/models/tiny:predict", {"instances": [ROW]}).status_code == 200
