"""TF Serving's REST API on aiohttp: same paths, bodies, error bodies and status codes.

Paths are matched with TF Serving's own (case-insensitive) patterns, the grammar the gateway
shares (`tfprod.runtime.tfserving_api`); anything under `/v1/`
that does not match is `400 {"error": "Malformed request: ..."}`, anything else a bare 404.
Every failure is a JSON `{"error": ...}` body with the status TF Serving maps its code to;
an unexpected exception is logged and answered 500 rather than dropping the connection.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from tfprod.runtime.serving import json_tensor
from tfprod.runtime.serving.errors import ServingError, invalid_argument
from tfprod.runtime.serving.fault_api import FaultApi
from tfprod.runtime.serving.faults import FaultInjector
from tfprod.runtime.serving.inference import classify, regress, serialize_examples
from tfprod.runtime.serving.models import DEFAULT_SIGNATURE, ModelManager, ServableVersion
from tfprod.runtime.serving.signatures import Signature
from tfprod.runtime.serving.status import metadata_json, model_metadata, model_status, status_json
from tfprod.runtime.tfserving_api import ModelPath, parse_prediction_path, parse_status_path

_LOG = logging.getLogger(__name__)

_V1 = re.compile(r"/v1/.*", re.IGNORECASE)
_INT64_MAX = 2**63 - 1
_JSON = "application/json"


def make_app(
    manager: ModelManager, *, max_request_bytes: int, faults: FaultInjector | None = None
) -> web.Application:
    """The REST API; with `faults`, also fault injection's endpoints (see `fault_api`)."""
    fault_api = None if faults is None else FaultApi(faults)
    api = _RestApi(manager, max_request_bytes, fault_api)
    app = web.Application(client_max_size=max_request_bytes)
    if fault_api is not None:
        fault_api.register(app.router)
    app.router.add_route("*", "/{tail:[\\s\\S]*}", api.handle)
    return app


class _RestApi:
    def __init__(
        self, manager: ModelManager, max_request_bytes: int, faults: FaultApi | None
    ) -> None:
        self._manager = manager
        self._limit = max_request_bytes
        self._faults = faults

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        if not _V1.fullmatch(path):
            return web.Response(status=404)
        if self._faults is not None and request.method == "POST":
            return await self._faults.answer(request, lambda: self._answer(request, path))
        return await self._answer(request, path)

    async def _answer(self, request: web.Request, path: str) -> web.Response:
        too_large = _json_response(
            413,
            json_tensor.error_body(
                f"Request body exceeds the limit of {self._limit} bytes (--max_request_bytes)"
            ),
        )
        if request.content_length is not None and request.content_length > self._limit:
            return too_large
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return too_large
        try:
            return _json_response(200, self._dispatch(request.method, path, body))
        except ServingError as error:
            return _json_response(error.http_status, json_tensor.error_body(error.message))
        except Exception:
            _LOG.exception("unexpected failure serving %s %s", request.method, path)
            return _json_response(500, json_tensor.error_body("Internal error"))

    def _dispatch(self, method: str, path: str, body: bytes) -> bytes:
        malformed = invalid_argument(f"Malformed request: {method} {path}")
        if method == "POST":
            target = parse_prediction_path(path)
            if target is None:
                raise malformed
            name, version, label = _model_info(target)
            if target.verb == "predict":
                return self._predict(name, version, label, body)
            if target.verb in ("classify", "regress"):
                return self._classify_or_regress(target.verb, name, version, label, body)
            raise malformed
        if method == "GET":
            target = parse_status_path(path)
            if target is None:
                raise malformed
            name, version, label = _model_info(target)
            if target.metadata:
                if not name:
                    raise invalid_argument("Missing model name in request.")
                response = model_metadata(self._manager, name, version, label, ["signature_def"])
                return metadata_json(response)
            return status_json(model_status(self._manager, name, version))
        raise malformed

    def _predict(self, name: str, version: int | None, label: str | None, body: bytes) -> bytes:
        servable = self._manager.resolve(name, version, label)
        doc = json_tensor.parse_json(body)
        signature = _rest_signature(servable, json_tensor.signature_name(doc))
        inputs, fmt = json_tensor.predict_inputs(doc, signature.inputs)
        return json_tensor.predict_response(signature.run(inputs), fmt)

    def _classify_or_regress(
        self, verb: str, name: str, version: int | None, label: str | None, body: bytes
    ) -> bytes:
        doc = json_tensor.parse_json(body)
        key = json_tensor.signature_name(doc)
        examples, context = json_tensor.examples_request(doc)
        servable = self._manager.resolve(name, version, label)
        serialized = serialize_examples(examples, context)
        if verb == "classify":
            return json_tensor.classify_response(classify(servable, key, serialized))
        return json_tensor.regress_response(regress(servable, key, serialized))


def _model_info(target: ModelPath) -> tuple[str, int | None, str | None]:
    version = None
    if target.version:
        version = int(target.version)
        if version > _INT64_MAX:
            raise invalid_argument(f"Failed to convert version: {target.version} to numeric.")
    return target.name, version, target.label


def _rest_signature(servable: ServableVersion, key: str) -> Signature:
    """REST looks the signature up before decoding, with its own message (INVALID_ARGUMENT)."""
    name = key or DEFAULT_SIGNATURE
    if name not in servable.signatures:
        raise invalid_argument(f'Serving signature name: "{name}" not found in signature def')
    signature = servable.signatures[name]
    if not signature.inputs:
        raise invalid_argument(f"Failed to get input map for signature: {key or 'DEFAULT'}")
    return signature


def _json_response(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type=_JSON)
