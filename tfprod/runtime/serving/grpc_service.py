"""TF Serving's gRPC `PredictionService` and `ModelService` (protos from tensorflow-serving-api).

Failures abort the call with TF Serving's status code and message. `MultiInference` and
`HandleReloadConfigRequest` answer UNIMPLEMENTED: models are fixed for the server's life.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from tensorflow_serving.apis import (
    classification_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from tfprod.runtime.serving.errors import ServingError, invalid_argument
from tfprod.runtime.serving.inference import classify, regress, serialize_examples
from tfprod.runtime.serving.models import DEFAULT_SIGNATURE, ModelManager, ServableVersion
from tfprod.runtime.serving.status import model_metadata, model_status

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")


def add_services(server: grpc.aio.Server, manager: ModelManager) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(manager), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(manager), server)


async def _answer(context: grpc.aio.ServicerContext, compute: Callable[[], _T]) -> _T:
    try:
        return compute()
    except ServingError as error:
        await context.abort(grpc.StatusCode[error.code], error.message)
    except Exception:
        _LOG.exception("unexpected failure in a gRPC call")
        await context.abort(grpc.StatusCode.INTERNAL, "Internal error")
    raise AssertionError("context.abort returns only by raising")


def _spec(model_spec: Any) -> tuple[str, int | None, str | None]:
    choice = model_spec.WhichOneof("version_choice")
    version = model_spec.version.value if choice == "version" else None
    label = model_spec.version_label if choice == "version_label" else None
    return model_spec.name, version, label


def _fill_spec(target: Any, servable: ServableVersion, signature_key: str) -> None:
    target.name = servable.model_name
    target.version.value = servable.version
    target.signature_name = signature_key


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):  # type: ignore[misc]
    def __init__(self, manager: ModelManager) -> None:
        self._manager = manager

    async def Predict(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        return await _answer(context, lambda: self._predict(request))

    async def Classify(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        return await _answer(context, lambda: self._classify(request))

    async def Regress(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        return await _answer(context, lambda: self._regress(request))

    async def GetModelMetadata(  # noqa: N802
        self, request: Any, context: grpc.aio.ServicerContext
    ) -> Any:
        return await _answer(
            context,
            lambda: model_metadata(
                self._manager, *_spec(request.model_spec), list(request.metadata_field)
            ),
        )

    def _predict(self, request: Any) -> Any:
        import tensorflow as tf

        servable = self._manager.resolve(*_spec(request.model_spec))
        key = request.model_spec.signature_name or DEFAULT_SIGNATURE
        signature = servable.signature(key)
        inputs = {}
        for alias, proto in request.inputs.items():
            try:
                inputs[alias] = tf.make_ndarray(proto)
            except Exception:
                raise invalid_argument(f"tensor parsing error: {alias}") from None
        outputs = signature.run(inputs, list(request.output_filter))
        response = predict_pb2.PredictResponse()
        _fill_spec(response.model_spec, servable, key)
        for alias, value in outputs.items():
            response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
        return response

    def _examples(self, request: Any) -> tuple[ServableVersion, str, list[bytes]]:
        servable = self._manager.resolve(*_spec(request.model_spec))
        kind = request.input.WhichOneof("kind")
        if kind == "example_list":
            examples = serialize_examples(request.input.example_list.examples, None)
        elif kind == "example_list_with_context":
            with_context = request.input.example_list_with_context
            examples = serialize_examples(with_context.examples, with_context.context)
        else:
            raise invalid_argument("Input is empty.")
        return servable, request.model_spec.signature_name or DEFAULT_SIGNATURE, examples

    def _classify(self, request: Any) -> Any:
        servable, key, examples = self._examples(request)
        response = classification_pb2.ClassificationResponse()
        for row in classify(servable, key, examples):
            classifications = response.result.classifications.add()
            for label, score in row:
                classifications.classes.add(label=label, score=score)
        _fill_spec(response.model_spec, servable, key)
        return response

    def _regress(self, request: Any) -> Any:
        servable, key, examples = self._examples(request)
        response = regression_pb2.RegressionResponse()
        for value in regress(servable, key, examples):
            response.result.regressions.add(value=value)
        _fill_spec(response.model_spec, servable, key)
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):  # type: ignore[misc]
    def __init__(self, manager: ModelManager) -> None:
        self._manager = manager

    async def GetModelStatus(  # noqa: N802
        self, request: Any, context: grpc.aio.ServicerContext
    ) -> Any:
        def compute() -> Any:
            if not request.HasField("model_spec"):
                raise invalid_argument("Missing ModelSpec")
            name, version, _label = _spec(request.model_spec)
            return model_status(self._manager, name, version)

        return await _answer(context, compute)
