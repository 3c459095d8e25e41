"""The explainer's HTTP API (aiohttp), served by `tfprod explainer`.

- `POST /v1/models/NAME[/versions/N|/labels/L]:explain` with `{"instances": [...], "method":
  "lime"|"shap"|"gradients"|"attention_maps"}` answers `{"explanations": [{"method",
  "version", "prediction", "attributions", "ranking", "completeness_error" (gradient methods
  only), "background"}, ...]}`, one per instance;
- `GET /v1/models/NAME/explanations?limit=N`: the newest explanations of NAME (requested and
  captured), newest first, each with its `unix_time` and `source` (`request` or `capture`);
  N from 1 to the results kept (default 100), default 20;
- `POST /v1/captures`: one captured sample (a gateway capture record), queued; always 202,
  `{"queued": true|false}`;
- `GET /metrics`: the service's counters.

Errors have TF Serving's body `{"error": "..."}` naming the field, the bad value and what is
allowed: 400 for bad input, 404 for an unknown deployment, version or label, 503 when busy,
500 when the method fails on the model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tfprod.runtime.explain.deployments import AddressError, Deployment, ServedVersion
from tfprod.runtime.explain.inputs import InputError
from tfprod.runtime.explain.methods import METHODS, ExplainError, Explanation
from tfprod.runtime.explain.service import BusyError, ExplainerService

_log = logging.getLogger(__name__)
DEFAULT_LIMIT = 20
MAX_BODY_BYTES = 1 << 20
_EXPLAIN = re.compile(r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:explain")
_LISTING = re.compile(r"/v1/models/([^/:]+)/explanations")
_BODY_FIELDS = ("instances", "method")


class _MethodFailedError(RuntimeError):
    """The method raised on the model (not the caller's fault)."""


_STATUS: dict[type[Exception], int] = {
    AddressError: 404,
    InputError: 400,
    ExplainError: 400,
    BusyError: 503,
}
_JSON = "application/json"


def error_response(status: int, message: str) -> web.Response:
    return web.Response(status=status, body=json.dumps({"error": message}), content_type=_JSON)


class ExplainerApp:
    def __init__(self, service: ExplainerService) -> None:
        self.service = service

    def build(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/v1/captures", self.handle_capture)
        app.router.add_post("/v1/models/{tail:[\\s\\S]+}", self.handle_explain)
        app.router.add_get("/v1/models/{tail:[\\s\\S]+}", self.handle_listing)
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle_unknown)
        app.on_startup.append(lambda _app: self.service.start())
        app.on_cleanup.append(lambda _app: self.service.stop())
        return app

    async def handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(404, f"no such endpoint: {request.method} {request.path}")

    async def handle_metrics(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.service.render(), content_type="text/plain")

    def _deployment(self, name: str) -> Deployment:
        deployment = self.service.deployments.get(name)
        if deployment is None:
            known = ", ".join(sorted(self.service.deployments)) or "-"
            raise AddressError(
                f"model {name!r} is not explained (no ModelDebugger); explained: {known}"
            )
        return deployment

    async def handle_explain(self, request: web.Request) -> web.Response:
        match = _EXPLAIN.fullmatch(request.rel_url.raw_path)
        if match is None:
            return error_response(
                404, f"malformed request: POST {request.path}; expected"
                " /v1/models/NAME[/versions/V|/labels/L]:explain",
            )  # fmt: skip
        name, version, label = match.groups()
        try:
            deployment = self._deployment(unquote(name))
            served = deployment.resolve(version, unquote(label) if label else None)
            body = _body(await request.read())
            explained = await self._explain(deployment, served, body)
        except web.HTTPRequestEntityTooLarge:
            return error_response(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
        except (AddressError, InputError, BusyError, ExplainError) as error:
            return error_response(_STATUS[type(error)], str(error))
        except _MethodFailedError as error:
            return error_response(500, str(error))
        return web.json_response({"explanations": [item.to_json() for item in explained]})

    async def _explain(
        self, deployment: Deployment, served: ServedVersion, body: dict[str, Any]
    ) -> list[Explanation]:
        try:
            return await self.service.explain(deployment, served, body["instances"], body["method"])
        except (InputError, BusyError, ExplainError):
            raise
        except Exception as error:  # the method failed on this model: say so in TF's body
            _log.exception("%s on %s version %s failed", body["method"], deployment.name, served.id)
            raise _MethodFailedError(
                f"{body['method']} failed on version {served.id}: {error}"
            ) from None

    async def handle_listing(self, request: web.Request) -> web.Response:
        match = _LISTING.fullmatch(request.rel_url.raw_path)
        if match is None:
            return error_response(
                404, f"no such endpoint: GET {request.path}; expected"
                " /v1/models/NAME/explanations?limit=N",
            )  # fmt: skip
        try:
            deployment = self._deployment(unquote(match.group(1)))
        except AddressError as error:
            return error_response(404, str(error))
        bound = self.service.results_bound
        given = request.query.get("limit", str(DEFAULT_LIMIT))
        if not (given.isdigit() and 1 <= int(given) <= bound):
            return error_response(
                400, f"limit: must be a whole number from 1 to {bound}, got {given!r}"
            )
        recent = self.service.recent(deployment.name, int(given))
        return web.json_response({"explanations": recent})

    async def handle_capture(self, request: web.Request) -> web.Response:
        try:
            record = json.loads(await request.read())
        except (ValueError, web.HTTPRequestEntityTooLarge):
            return error_response(400, "body: must be a capture record as JSON")
        return web.json_response({"queued": self.service.offer(record)}, status=202)


def _body(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InputError(f"request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise InputError(
            f"request body: must be an object with {', '.join(_BODY_FIELDS)}, got {_kind(body)}"
        )
    unknown = sorted(set(body) - set(_BODY_FIELDS))
    if unknown:
        raise InputError(f"{unknown[0]}: unknown field; allowed: {', '.join(_BODY_FIELDS)}")
    method = body.get("method")
    if method not in METHODS:
        shown = "missing" if "method" not in body else repr(method)
        raise InputError(
            f"method: {shown} is not an explanation method; allowed: {', '.join(METHODS)}"
        )
    if "instances" not in body:
        raise InputError("instances: missing; give a non-empty list of rows")
    return body


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__


async def run_explainer(service: ExplainerService, *, host: str, port: int) -> None:
    """Serves until SIGTERM/SIGINT; logs one `listening` line once bound."""
    runner = web.AppRunner(ExplainerApp(service).build(), access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        _log.info("tfprod explainer listening on http://%s:%d", host, port)
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
