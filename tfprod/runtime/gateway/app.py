"""The gateway: an aiohttp reverse proxy speaking TF Serving's REST API.

Hot path per predict request: read the body (bounded), pick a variant from the current
immutable routing table, forward the bytes over a pooled keep-alive connection, return the
upstream's bytes untouched. JSON is parsed on that path only when the sticky key is a body
field. Shadows, capture and confidence happen after the answer is in hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from typing import Any

from aiohttp import web

from tfprod.policy import DeploymentStatus
from tfprod.runtime.gateway.addressing import Addressing
from tfprod.runtime.gateway.admin import AdminApi
from tfprod.runtime.gateway.capture import CaptureQueue, CaptureRecord
from tfprod.runtime.gateway.config import Endpoint, GatewayConfig, Route
from tfprod.runtime.gateway.feedback import FeedbackError, FeedbackJoin, parse_feedback
from tfprod.runtime.gateway.follow import (
    FileStatus,
    Follower,
    Following,
    StatusReadOnlyError,
)
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.runtime.gateway.policy_routes import mounted_route
from tfprod.runtime.gateway.routing import RoutingTable, key_point
from tfprod.runtime.gateway.shadow import ShadowMirror, prediction_rows
from tfprod.runtime.gateway.state import RouteState, declared_table
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError
from tfprod.runtime.tfserving_api import VERBS, ModelPath, parse_prediction_path

_log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-Id"
VARIANT_HEADER = "X-Tfprod-Variant"
_MAX_REQUEST_ID = 128
_JSON = "application/json"


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An error in TF Serving's REST shape: `{"error": "..."}`."""
    return web.Response(
        status=status, body=json.dumps({"error": message}), content_type=_JSON, headers=headers
    )


class _UpstreamError(Exception):
    """The upstream did not give a usable answer (connection error, timeout, 5xx, open)."""

    def __init__(self, reason: str, answer: tuple[int, bytes] | None = None) -> None:
        super().__init__(reason)
        self.answer = answer


class Gateway:
    """Holds the live state: one `RouteState` per deployment, metrics, capture, feedback join,
    and what it follows (status documents, mounted policies)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        admin_token: str | None,
        following: Following | None = None,
    ) -> None:
        self.config = config
        self.metrics = GatewayMetrics()
        self.states: dict[str, RouteState] = {}
        rng = random.Random(config.seed)
        self.random = rng.random
        self.capture = CaptureQueue(config.capture_queue_size)
        self.feedback = FeedbackJoin(config.feedback_window)
        self.admin = AdminApi(self, admin_token)
        self._id_prefix = os.urandom(6).hex() + "-"
        self._id_counter = 0
        self.client = UpstreamClient(
            limit=config.upstream_connections, timeout_seconds=config.upstream_timeout_seconds
        )
        self.origins: dict[str, Origin] = {}
        for route in config.routes:
            self.replace_route(route)
        self.shadows = ShadowMirror(
            client=self.client,
            origins=self.origins,
            metrics=self.metrics,
            timeout_seconds=config.shadow_timeout_seconds,
            max_in_flight=config.shadow_max_in_flight,
            random=self.random,
        )
        self.addressing = Addressing(self)
        self.follower = (
            None if following is None else Follower(self, following, read_route=mounted_route)
        )

    # -- state ------------------------------------------------------------------------------

    def replace_route(self, route: Route) -> None:
        """Installs `route` (at start, or when its mounted policy changed). A reload that keeps
        the same variants keeps the weights and generation being served."""
        previous = self.states.get(route.model)
        state = RouteState.build(route, self.config.breaker, previous)
        if previous is not None and previous.names == state.names:
            state.table = previous.table
            state.generation = previous.generation
            state.status_writer = previous.status_writer
        endpoints = [v.endpoint for v in route.variants] + [s.endpoint for s in route.shadows]
        for endpoint in endpoints + ([route.fallback] if route.fallback else []):
            self.origins.setdefault(endpoint.url, Origin.of(endpoint.url))
        self.states[route.model] = state
        self.set_table(route.model, state.table)
        self.metrics.status_generation.set((route.model,), state.generation)

    def set_table(self, model: str, table: RoutingTable) -> None:
        """Swaps in a new routing table in one step: requests already routed keep their
        upstream, the next request sees the new weights; none is dropped."""
        self.states[model].table = table
        for name, weight in zip(table.names, table.weights, strict=True):
            self.metrics.weights.set((model, name), weight)

    def apply_status(self, model: str, status: DeploymentStatus | None, where: str) -> None:
        """Serves `status` (None: no document, the declared weights) for `model`, unless it
        names other versions than the route's: then the weights being served stay."""
        state = self.states[model]
        if status is None:
            table, generation, writer = declared_table(state.route), 0, None
        else:
            if set(status.weights) != set(state.names) or status.deployment != model:
                self.status_problem(
                    model,
                    f"{where}: generation {status.generation} of {status.deployment!r} gives"
                    f" weights to {', '.join(sorted(status.weights))}; the route's variants are"
                    f" {', '.join(state.names)}: still serving generation {state.generation}",
                )
                return
            table = state.with_percent(status.weights)
            generation, writer = status.generation, status.writer
        self.set_table(model, table)
        state.generation, state.status_writer, state.status_problem = generation, writer, None
        self.metrics.status_generation.set((model,), generation)

    def status_problem(self, model: str, problem: str) -> None:
        """Records why the status of `model` could not be followed (logged once per change)."""
        state = self.states[model]
        if state.status_problem != problem:
            _log.warning("%s", problem)
        state.status_problem = problem

    def change_weights(self, model: str, weights: dict[str, float]) -> RouteState:
        """Sets `model`'s weights (percent, validated): through the status file when the
        gateway follows one (then applied as any replica applies it), in memory otherwise.

        Raises StatusReadOnlyError when the status is a ConfigMap (the controller writes it)."""
        state = self.states[model]
        source = None if self.follower is None else self.follower.source(model)
        if source is None:
            self.set_table(model, state.with_percent(weights))
            state.generation += 1
            state.status_writer = "admin API (memory)"
            self.metrics.status_generation.set((model,), state.generation)
            return state
        if not isinstance(source, FileStatus):
            raise StatusReadOnlyError(
                f"weights of {model!r} come from {source.where()}, which the controller"
                " writes; this gateway only reads it"
            )
        assert self.follower is not None and state.route.policy_digest is not None
        status = source.write_next(model, weights, state.route.policy_digest, self.follower.writer)
        self.apply_status(model, status, source.where())
        return state

    def _request_id(self, request: web.Request) -> str:
        given = request.headers.get(REQUEST_ID_HEADER)
        if given and len(given) <= _MAX_REQUEST_ID and given.isprintable():
            return given
        self._id_counter += 1
        return f"{self._id_prefix}{self._id_counter:x}"

    # -- application ------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body_bytes)
        app.router.add_post("/v1/feedback", self.handle_feedback)
        app.router.add_post("/v1/models/{tail:[\\s\\S]+}", self.handle_predict)
        app.router.add_get("/v1/models/{tail:[\\s\\S]+}", self.handle_status)
        app.router.add_get("/metrics", self.handle_metrics)
        self.admin.register(app.router)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle_unknown)
        app.on_startup.append(self._start_following)
        app.on_shutdown.append(self._stop_shadows)
        app.on_cleanup.append(self._close)
        return app

    async def _start_following(self, _app: web.Application) -> None:
        if self.follower is not None:
            await self.follower.start()

    async def _stop_shadows(self, _app: web.Application) -> None:
        await self.shadows.close(self.config.shadow_timeout_seconds)

    async def _close(self, _app: web.Application) -> None:
        if self.follower is not None:
            await self.follower.stop()
        self.client.close()

    # -- handlers ---------------------------------------------------------------------------

    async def handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(404, f"no such endpoint: {request.method} {request.path}")

    async def handle_metrics(self, _request: web.Request) -> web.Response:
        for model, state in self.states.items():
            for name, breaker in state.breakers.items():
                self.metrics.breaker_open.set(
                    (f"{model}/{name}",), float(breaker.state != "closed")
                )
        return web.Response(
            text=self.metrics.render(), content_type="text/plain", charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    async def handle_status(self, request: web.Request) -> web.Response:
        return await self.addressing.status(request)

    async def handle_predict(self, request: web.Request) -> web.Response:
        target = parse_prediction_path(request.rel_url.raw_path)
        if target is None or target.verb not in VERBS:
            return error_response(
                404, f"malformed request: POST {request.path}; expected"
                " /v1/models/NAME[/versions/V|/labels/L]:predict|classify|regress",
            )  # fmt: skip
        state = self.states.get(target.name)
        if state is None:
            return error_response(404, f"Servable not found for request: Latest({target.name})")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                413, f"request body is larger than {self.config.max_body_bytes} bytes"
            )
        if target.version is not None or target.label is not None:
            pinned = await self.addressing.pinned(state, target)
            if isinstance(pinned, web.Response):
                return pinned
            endpoint = pinned
        else:
            point = self._point(state.route, request, body)
            if isinstance(point, web.Response):
                return point
            table = state.table
            endpoint = state.variant(table.names[table.pick(point)])
        return await self._forward(request, state.route, endpoint, _verb(target), body)

    def _point(self, route: Route, request: web.Request, body: bytes) -> float | web.Response:
        sticky = route.sticky
        if sticky is None:
            return self.random()
        key: str | None
        if sticky.source == "header":
            key = request.headers.get(sticky.name)
        elif sticky.source == "cookie":
            key = request.cookies.get(sticky.name)
        else:
            try:
                key = _field(json.loads(body), sticky.name)
            except (ValueError, RecursionError) as error:
                return error_response(400, f"request body is not valid JSON: {error}")
        return self.random() if not key else key_point(key, route.model)

    async def _forward(
        self, request: web.Request, route: Route, endpoint: Endpoint, verb: str, body: bytes
    ) -> web.Response:
        model = route.model
        request_id = self._request_id(request)
        started = time.perf_counter()
        served = endpoint
        try:
            status, answer = await self._call(model, endpoint, verb, body)
        except _UpstreamError as failure:
            fallback = route.fallback
            if fallback is None or fallback == endpoint:
                return self._failed(model, endpoint, failure, request_id)
            self.metrics.fallbacks.inc((model, endpoint.name))
            served = fallback
            try:
                status, answer = await self._call(model, fallback, verb, body)
            except _UpstreamError as second:
                return self._failed(model, fallback, second, request_id)
        elapsed = time.perf_counter() - started
        variant = served.name
        self.metrics.requests.inc((model, variant, str(status)))
        self.metrics.duration.observe((model, variant), elapsed)
        self.feedback.remember(request_id, model, variant)
        if status == 200:
            if route.shadows:
                self.shadows.mirror(
                    model=model, shadows=route.shadows, verb=verb, body=body,
                    primary=answer, primary_seconds=elapsed,
                )  # fmt: skip
            rate = route.confidence_rate
            if rate >= 1.0 or (rate and self.random() < rate):
                # Parsed on the next loop turn, once this answer has been written.
                asyncio.get_running_loop().call_soon(
                    self._observe_confidence, model, variant, answer
                )
            if route.capture_rate and self.random() < route.capture_rate:
                self._capture(request_id, model, variant, status=status, body=body, answer=answer)
        return web.Response(
            status=status,
            body=answer,
            content_type=_JSON,
            headers={REQUEST_ID_HEADER: request_id, VARIANT_HEADER: variant},
        )

    async def _call(
        self, model: str, endpoint: Endpoint, verb: str, body: bytes
    ) -> tuple[int, bytes]:
        breaker = self.states[model].breakers[endpoint.name]
        if not breaker.allow():
            raise _UpstreamError(f"upstream {endpoint.name!r} is unavailable (circuit open)")
        path = f"{endpoint.model_path(model)}:{verb}"
        try:
            status, answer = await self.client.request(
                self.origins[endpoint.url], "POST", path, body
            )
        except TimeoutError:
            breaker.failure()
            raise _UpstreamError(f"upstream {endpoint.name!r} timed out") from None
        except UpstreamError:
            breaker.failure()
            raise _UpstreamError(f"upstream {endpoint.name!r} is unavailable") from None
        if status >= 500:
            breaker.failure()
            raise _UpstreamError(f"upstream {endpoint.name!r} failed", (status, answer))
        breaker.success()
        return status, answer

    def _failed(
        self, model: str, endpoint: Endpoint, failure: _UpstreamError, request_id: str
    ) -> web.Response:
        headers = {REQUEST_ID_HEADER: request_id, VARIANT_HEADER: endpoint.name}
        if failure.answer is not None:  # pass the upstream's own 5xx answer through
            status, answer = failure.answer
            self.metrics.requests.inc((model, endpoint.name, str(status)))
            return web.Response(status=status, body=answer, content_type=_JSON, headers=headers)
        self.metrics.requests.inc((model, endpoint.name, "503"))
        return error_response(503, str(failure), headers)

    def _capture(
        self, request_id: str, model: str, variant: str, *, status: int, body: bytes, answer: bytes
    ) -> None:
        record = CaptureRecord(
            request_id=request_id,
            model=model,
            variant=variant,
            status=status,
            unix_time=time.time(),
            request=body.decode("utf-8", "replace"),
            response=answer.decode("utf-8", "replace"),
        )
        if self.capture.offer(record):
            self.metrics.captured.inc((model,))
        else:
            self.metrics.capture_dropped.inc((model,))

    def _observe_confidence(self, model: str, variant: str, answer: bytes) -> None:
        for confidence in _confidences(answer):
            self.metrics.confidence.observe((model, variant), confidence)

    async def handle_feedback(self, request: web.Request) -> web.Response:
        try:
            event = parse_feedback(json.loads(await request.read()))
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                413, f"request body is larger than {self.config.max_body_bytes} bytes"
            )
        except (ValueError, RecursionError) as error:
            return error_response(400, str(error) if isinstance(error, FeedbackError) else
                                  f"request body is not valid JSON: {error}")  # fmt: skip
        served = self.feedback.lookup(event.request_id)
        if served is None:
            self.metrics.feedback_unmatched.inc()
            return error_response(
                404,
                f"unknown request_id {event.request_id!r:.80}: not served by this gateway or"
                f" older than its last {self.config.feedback_window} requests",
            )
        model, variant = served
        self.metrics.feedback.inc((model, variant, event.event))
        self.metrics.feedback_value.inc((model, variant, event.event), event.value)
        return web.json_response({"request_id": event.request_id, "model": model,
                                  "variant": variant, "event": event.event})  # fmt: skip


def _verb(target: ModelPath) -> str:
    assert target.verb is not None  # prediction paths always have one
    return target.verb


def _field(document: Any, path: str) -> str | None:
    """The value at a dotted `path` (`user_id`, `instances.0.user_id`) as text, or None."""
    for part in path.split("."):
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    if document is None or isinstance(document, dict | list):
        return None
    return document if isinstance(document, str) else json.dumps(document)


def _confidences(answer: bytes) -> list[float]:
    """Top-class probability per prediction row (max(p, 1 - p) for a single probability)."""
    try:
        rows = prediction_rows(json.loads(answer))
    except ValueError:
        return []
    return [max(*row, 1.0 - row[0]) if len(row) == 1 else max(row) for row in rows or [] if row]
