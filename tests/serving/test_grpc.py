"""TF Serving's gRPC API through the real tensorflow-serving-api client stubs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from tfprod.runtime.serving import ModelServerHandle

ROW = [0.5, -1.0, 2.0, 0.25]


@pytest.fixture(scope="module")
def channel(server: ModelServerHandle) -> Iterator[grpc.Channel]:
    assert server.endpoints.grpc_target is not None
    with grpc.insecure_channel(server.endpoints.grpc_target) as opened:
        yield opened


@pytest.fixture(scope="module")
def prediction(channel: grpc.Channel) -> Any:
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def model_service(channel: grpc.Channel) -> Any:
    return model_service_pb2_grpc.ModelServiceStub(channel)


def predict_request(name: str = "tiny", **spec: Any) -> Any:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(np.array([ROW], np.float32)))
    return request


def rpc_error(call: Any, request: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return caught.value.code(), caught.value.details()


@pytest.mark.slow
def test_predict_matches_rest_and_reports_the_version(
    prediction: Any, server: ModelServerHandle
) -> None:
    import httpx

    response = prediction.Predict(predict_request(version_label="stable"), timeout=10)
    assert (response.model_spec.name, response.model_spec.version.value) == ("tiny", 1)
    assert response.model_spec.signature_name == "serving_default"
    got = tf.make_ndarray(response.outputs["probability"])
    rest = httpx.post(
        f"{server.endpoints.rest_url}/v1/models/tiny/versions/1:predict",
        json={"instances": [ROW]},
    ).json()
    assert got.shape == (1, 1)
    assert got[0, 0] == np.float32(rest["predictions"][0][0])
    latest = prediction.Predict(predict_request(), timeout=10)
    assert latest.model_spec.version.value == 2


@pytest.mark.slow
def test_predict_errors_carry_tf_serving_codes(prediction: Any) -> None:
    assert rpc_error(prediction.Predict, predict_request("nope")) == (
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Latest(nope)",
    )
    assert rpc_error(prediction.Predict, predict_request(version=5)) == (
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Specific(tiny, 5)",
    )
    assert rpc_error(prediction.Predict, predict_request(version_label="beta")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Unrecognized servable version label: beta",
    )
    assert rpc_error(prediction.Predict, predict_request(signature_name="other")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        'Serving signature key "other" not found.',
    )
    renamed = predict_request()
    renamed.inputs["feature"].CopyFrom(renamed.inputs.pop("features"))
    assert rpc_error(prediction.Predict, renamed) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "input tensor alias not found in signature: feature. Inputs expected to be in the set "
        "{features}.",
    )
    wrong_type = predict_request()
    wrong_type.inputs["features"].CopyFrom(tf.make_tensor_proto(np.array([[1, 2, 3, 4]])))
    assert rpc_error(prediction.Predict, wrong_type) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Expects arg[0] to be float but int64 is provided",
    )
    filtered = predict_request()
    filtered.output_filter.append("logits")
    assert rpc_error(prediction.Predict, filtered) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "output tensor alias not found in signature: logits Outputs expected to be in the set "
        "{probability}.",
    )


@pytest.mark.slow
def test_oversized_messages_are_refused(prediction: Any) -> None:
    request = predict_request()
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(np.zeros((5000, 4), np.float32)))
    code, _ = rpc_error(prediction.Predict, request)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.slow
def test_classify_and_regress_answer_from_examples(prediction: Any) -> None:
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = "examples"
    classify.input.example_list.examples.add().features.feature["x"].float_list.value.append(0.0)
    result = prediction.Classify(classify, timeout=10)
    assert [[(c.label, c.score) for c in row.classes] for row in result.result.classifications] == [
        [("neg", 0.5), ("pos", 0.5)]
    ]
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name = "examples"
    regress.model_spec.signature_name = "regress"
    with_context = regress.input.example_list_with_context
    with_context.context.features.feature["x"].float_list.value.append(9.0)
    with_context.examples.add().features.feature["x"].float_list.value.append(1.5)
    with_context.examples.add()
    response = prediction.Regress(regress, timeout=10)
    assert [r.value for r in response.result.regressions] == [4.0, 19.0]
    assert response.model_spec.signature_name == "regress"
    empty = regression_pb2.RegressionRequest()
    empty.model_spec.name = "examples"
    assert rpc_error(prediction.Regress, empty) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Input is empty.",
    )


@pytest.mark.slow
def test_metadata_holds_the_signature_def_map(prediction: Any) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "tiny"
    request.metadata_field.append("signature_def")
    response = prediction.GetModelMetadata(request, timeout=10)
    assert (response.model_spec.name, response.model_spec.version.value) == ("tiny", 2)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    default = signature_map.signature_def["serving_default"]
    assert default.inputs["features"].dtype == tf.float32.as_datatype_enum
    assert [d.size for d in default.inputs["features"].tensor_shape.dim] == [-1, 4]
    request.metadata_field[:] = ["graph"]
    assert rpc_error(prediction.GetModelMetadata, request) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Metadata field graph is not supported",
    )


@pytest.mark.slow
def test_model_status_lists_available_versions(model_service: Any) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "tiny"
    response = model_service.GetModelStatus(request, timeout=10)
    assert [(s.version, s.state, s.status.error_code) for s in response.model_version_status] == [
        (2, get_model_status_pb2.ModelVersionStatus.AVAILABLE, 0),
        (1, get_model_status_pb2.ModelVersionStatus.AVAILABLE, 0),
    ]
    request.model_spec.version.value = 7
    assert rpc_error(model_service.GetModelStatus, request) == (
        grpc.StatusCode.NOT_FOUND,
        "Could not find version 7 of model tiny",
    )


@pytest.mark.slow
def test_config_reload_and_multi_inference_are_unimplemented(
    prediction: Any, model_service: Any
) -> None:
    from tensorflow_serving.apis import inference_pb2, model_management_pb2

    reload_code, _ = rpc_error(
        model_service.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest()
    )
    multi_code, _ = rpc_error(prediction.MultiInference, inference_pb2.MultiInferenceRequest())
    assert (reload_code, multi_code) == (
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNIMPLEMENTED,
    )
