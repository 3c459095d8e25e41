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
import math
import random
import time
from typing import Any

from aiohttp import web

from tfprod.policy import DeploymentStatus
from tfprod.runtime.gateway.addressing import Addressing
from tfprod.runtime.gateway.admin import AdminApi
from tfprod.runtime.gateway.capture import CaptureQueue, CaptureRecord, Redactor
from tfprod.runtime.gateway.config import Endpoint, GatewayConfig, Route
from tfprod.runtime.gateway.drift import DriftMonitors
from tfprod.runtime.gateway.explain_forward import ExplainForward
from tfprod.runtime.gateway.feedback import (
    BINARY_EVENTS,
    FeedbackBook,
    FeedbackError,
    FeedbackEvent,
    Refusal,
    parse_feedback,
)
from tfprod.runtime.gateway.feedback_relay import FeedbackRelay
from tfprod.runtime.gateway.follow import (
    FileStatus,
    Follower,
    Following,
    StatusReadOnlyError,
)
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.runtime.gateway.policy_routes import mounted_route
from tfprod.runtime.gateway.request_ids import RequestIds, random_key
from tfprod.runtime.gateway.routing import RoutingTable, key_point
from tfprod.runtime.gateway.shadow import ShadowMirror, prediction_rows
from tfprod.runtime.gateway.state import RouteState, declared_table
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError
from tfprod.runtime.tfserving_api import VERBS, ModelPath, parse_prediction_path

_log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-Id"
FEEDBACK_ID_HEADER = "X-Tfprod-Feedback-Id"
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
    """The upstream did not give a usable answer (connection error, timeout, 5xx, open).

    `answer` is the upstream's own 5xx answer, if it gave one; `attempted` is False when the
    open circuit refused the request before any call."""

    def __init__(
        self, reason: str, answer: tuple[int, bytes] | None = None, *, attempted: bool = True
    ) -> None:
        super().__init__(reason)
        self.answer = answer
        self.attempted = attempted

    @property
    def status(self) -> int:
        """The status code the failure counts as: the upstream's 5xx, else 503."""
        return 503 if self.answer is None else self.answer[0]


class Gateway:
    """Holds the live state: one `RouteState` per deployment, metrics, capture, feedback, and
    what it follows (status documents, mounted policies), and the drift monitors, which every
    200 answer of a monitored deployment is handed to (see the drift module).

    `feedback_key` signs request ids (see `request_ids`); None draws a random key for this
    process, so feedback then matches only the ids this replica issued. `advertise_url` is this
    replica's base URL as its peers reach it, named in the ids it issues so that their
    feedback is relayed here (see `feedback_relay`); None: ids name no owner."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        admin_token: str | None,
        feedback_key: bytes | None = None,
        advertise_url: str | None = None,
        following: Following | None = None,
        drift: DriftMonitors | None = None,
    ) -> None:
        self.config = config
        self.drift = drift
        self.metrics = GatewayMetrics()
        self.states: dict[str, RouteState] = {}
        rng = random.Random(config.seed)
        self.random = rng.random
        self.capture = CaptureQueue(config.capture_queue_size)
        self.capture.on_expired = lambda record: self.metrics.capture_expired.inc((record.model,))
        key = feedback_key or random_key()
        self.redactor = Redactor(key)
        ids = RequestIds(key, owner=advertise_url)
        self.feedback = FeedbackBook(
            ids,
            window=config.feedback_window,
            client_ids=any(route.client_request_ids for route in config.routes),
        )
        self.relay = FeedbackRelay(ids)
        self.admin = AdminApi(self, admin_token)
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
        self.explain = ExplainForward(
            config.explainer_url,
            self.client,
            lambda model: model in self.states,
            max_body_bytes=config.max_body_bytes,
        )
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

    def _answer_headers(self, request: web.Request, route: Route, variant: str) -> dict[str, str]:
        """The answer's ids: `X-Tfprod-Feedback-Id` is signed and names `variant`;
        `X-Request-Id` is the caller's own (kept for tracing, and joined in memory where the
        route accepts callers' ids for feedback), or the signed one when the caller sent none."""
        signed = self.feedback.ids.issue(route.model, variant, time.time())
        given = request.headers.get(REQUEST_ID_HEADER)
        if not (given and len(given) <= _MAX_REQUEST_ID and given.isprintable()):
            given = signed
        elif route.client_request_ids:
            self.feedback.join.remember(given, route.model, variant)
        return {REQUEST_ID_HEADER: given, FEEDBACK_ID_HEADER: signed, VARIANT_HEADER: variant}

    # -- application ------------------------------------------------------------------------

    def build_app(self, *, with_admin: bool = True) -> web.Application:
        """The public application: TF Serving's API and feedback, and, unless `with_admin` is
        false (the admin API and /metrics then served by `build_admin_app` on a port of their
        own), the admin API and /metrics too. It owns the gateway's lifecycle hooks."""
        app = web.Application(client_max_size=self.config.max_body_bytes)
        app.router.add_post("/v1/feedback", self.handle_feedback)
        self.explain.register(app.router)
        app.router.add_post("/v1/models/{tail:[\\s\\S]+}", self.handle_predict)
        app.router.add_get("/v1/models/{tail:[\\s\\S]+}", self.handle_status)
        if with_admin:
            self._add_admin_routes(app)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle_unknown)
        app.on_startup.append(self._start_following)
        if self.drift is not None:
            app.on_startup.append(self._start_drift)
            app.on_cleanup.append(self._stop_drift)
        app.on_shutdown.append(self._stop_shadows)
        app.on_cleanup.append(self._close)
        return app

    def build_admin_app(self) -> web.Application:
        """The admin application: the admin API and /metrics only (for `--admin-port`)."""
        app = web.Application(client_max_size=self.config.max_body_bytes)
        self._add_admin_routes(app)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle_unknown)
        return app

    def _add_admin_routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.handle_metrics)
        self.admin.register(app.router)

    async def _start_following(self, _app: web.Application) -> None:
        if self.follower is not None:
            await self.follower.start()

    async def _start_drift(self, _app: web.Application) -> None:
        assert self.drift is not None
        await self.drift.start()

    async def _stop_drift(self, _app: web.Application) -> None:
        assert self.drift is not None
        await self.drift.stop()

    async def _stop_shadows(self, _app: web.Application) -> None:
        await self.shadows.close(self.config.shadow_timeout_seconds)
        await self.explain.close()
        await self.relay.close()

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
        text = self.metrics.render()
        if self.drift is not None:
            text += self.drift.render()
        text += self.explain.render()
        return web.Response(
            text=text, content_type="text/plain", charset="utf-8",
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
        """Calls `endpoint`, then the route's fallback if it failed; each attempt is counted
        and timed on the variant that made it (see the metrics module for the outcomes)."""
        model = route.model
        served = endpoint
        try:
            status, answer, elapsed = await self._attempt(model, endpoint, verb, body)
        except _UpstreamError as failure:
            fallback = route.fallback
            if fallback is None or fallback == endpoint:
                return self._failed(request, route, endpoint, failure)
            self._count_failure(model, endpoint, failure, "fell_back")
            self.metrics.fallbacks.inc((model, endpoint.name))
            served = fallback
            try:
                status, answer, elapsed = await self._attempt(model, fallback, verb, body)
            except _UpstreamError as second:
                return self._failed(request, route, fallback, second)
        variant = served.name
        self.metrics.requests.inc((model, variant, str(status), ""))
        headers = self._answer_headers(request, route, variant)
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
            if self.drift is not None:
                self.drift.offer(model, body, answer)
            if route.capture_rate and self.random() < route.capture_rate:
                self._capture(
                    headers[REQUEST_ID_HEADER], route, variant,
                    status=status, body=body, answer=answer,
                )  # fmt: skip
        return web.Response(status=status, body=answer, content_type=_JSON, headers=headers)

    async def _attempt(
        self, model: str, endpoint: Endpoint, verb: str, body: bytes
    ) -> tuple[int, bytes, float]:
        """One call to `endpoint`, timed on it whether it answers or fails (a request the open
        circuit refuses made no attempt and is not timed): status, answer, seconds taken."""
        started = time.perf_counter()
        try:
            status, answer = await self._call(model, endpoint, verb, body)
        except _UpstreamError as failure:
            if failure.attempted:
                self.metrics.duration.observe((model, endpoint.name), time.perf_counter() - started)
            raise
        elapsed = time.perf_counter() - started
        self.metrics.duration.observe((model, endpoint.name), elapsed)
        return status, answer, elapsed

    async def _call(
        self, model: str, endpoint: Endpoint, verb: str, body: bytes
    ) -> tuple[int, bytes]:
        breaker = self.states[model].breakers[endpoint.name]
        if not breaker.allow():
            raise _UpstreamError(
                f"upstream {endpoint.name!r} is unavailable (circuit open)", attempted=False
            )
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

    def _count_failure(
        self, model: str, endpoint: Endpoint, failure: _UpstreamError, outcome: str
    ) -> None:
        self.metrics.requests.inc((model, endpoint.name, str(failure.status), outcome))

    def _failed(
        self, request: web.Request, route: Route, endpoint: Endpoint, failure: _UpstreamError
    ) -> web.Response:
        self._count_failure(route.model, endpoint, failure, "failed")
        headers = self._answer_headers(request, route, endpoint.name)
        if failure.answer is not None:  # pass the upstream's own 5xx answer through
            status, answer = failure.answer
            return web.Response(status=status, body=answer, content_type=_JSON, headers=headers)
        return error_response(503, str(failure), headers)

    def _capture(
        self,
        request_id: str,
        route: Route,
        variant: str,
        *,
        status: int,
        body: bytes,
        answer: bytes,
    ) -> None:
        """Queue one exchange, redacted by the route's rules first (see the capture module)."""
        model = route.model
        rules = dict(route.capture_redact)
        request = self.redactor.redact_text(body.decode("utf-8", "replace"), rules)
        response = self.redactor.redact_text(answer.decode("utf-8", "replace"), rules)
        if request is None or response is None:
            self.metrics.capture_unredactable.inc((model,))
            return
        now = time.time()
        record = CaptureRecord(
            request_id=request_id,
            model=model,
            variant=variant,
            status=status,
            unix_time=now,
            expires_unix_time=now + route.capture_retention_seconds,
            request=request,
            response=response,
        )
        self.explain.capture(record)
        if self.capture.offer(record):
            self.metrics.captured.inc((model,))
        else:
            self.metrics.capture_dropped.inc((model,))

    def _observe_confidence(self, model: str, variant: str, answer: bytes) -> None:
        for confidence in _confidences(answer):
            if not self.metrics.confidence.observe((model, variant), confidence):
                self.metrics.prediction_nonfinite.inc((model, variant))

    async def handle_feedback(self, request: web.Request) -> web.Response:
        """Counts one event for the variant its request id names (see the feedback module)."""
        try:
            body = await request.read()
            event = parse_feedback(json.loads(body))
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                413, f"request body is larger than {self.config.max_body_bytes} bytes"
            )
        except (ValueError, RecursionError) as error:
            self.metrics.feedback_refused.inc(("invalid",))
            return error_response(400, str(error) if isinstance(error, FeedbackError) else
                                  f"request body is not valid JSON: {error}")  # fmt: skip
        relayed_here = self.relay.is_relayed(request, event.request_id)
        owner = None if relayed_here else self.feedback.owner_elsewhere(event.request_id)
        if owner is not None:
            owners_answer = await self.relay.relay(owner, event.request_id, body)
            outcome = "unreachable" if owners_answer is None else "relayed"
            self.metrics.feedback_relayed.inc((outcome,))
            if owners_answer is not None:
                return owners_answer
        answer = self._count(event)
        return self.relay.acknowledge(answer, event.request_id) if relayed_here else answer

    def _count(self, event: FeedbackEvent) -> web.Response:
        """Counts `event` on this replica, or answers why it does not count."""
        served = self.feedback.attribute(event, time.time())
        if isinstance(served, Refusal):
            if served.reason == "unmatched":
                self.metrics.feedback_unmatched.inc()
            else:
                self.metrics.feedback_refused.inc((served.reason,))
            return error_response(served.status, served.message)
        model, variant = served
        labels = (model, variant, event.event)
        self.metrics.feedback.inc(labels)
        self.metrics.feedback_value.inc(labels, event.value)
        if event.event not in BINARY_EVENTS:  # a valued event: revenue
            self.metrics.feedback_squares.inc(labels, event.value * event.value)
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
    """Top-class probability per prediction row (see `_confidence`)."""
    try:
        rows = prediction_rows(json.loads(answer))
    except ValueError:
        return []
    return [_confidence(row) for row in rows or [] if row]


def _confidence(row: list[float]) -> float:
    """max(p, 1 - p) for a single probability, else the largest; NaN for a row holding NaN or
    an infinity (the model server writes bare `NaN`), where `max` would depend on the order."""
    if not all(map(math.isfinite, row)):
        return math.nan
    return max(row[0], 1.0 - row[0]) if len(row) == 1 else max(row)
