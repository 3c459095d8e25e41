"""The gateway: an aiohttp reverse proxy speaking TF Serving's REST API.

Hot path per predict request: read the body (bounded), pick a variant from the current
immutable routing table, forward the bytes over a pooled keep-alive connection, return the
upstream's bytes untouched. JSON is parsed on that path only when the sticky key is a body
field. Shadows, capture and confidence happen after the answer is in hand.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tfprod.runtime.gateway.admin import AdminApi
from tfprod.runtime.gateway.breaker import Breaker
from tfprod.runtime.gateway.capture import CaptureQueue, CaptureRecord
from tfprod.runtime.gateway.config import Endpoint, GatewayConfig, Route
from tfprod.runtime.gateway.feedback import (
    BINARY_EVENTS,
    FeedbackBook,
    FeedbackError,
    Refusal,
    parse_feedback,
)
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.runtime.gateway.request_ids import RequestIds, random_key
from tfprod.runtime.gateway.routing import RoutingTable, key_point
from tfprod.runtime.gateway.shadow import ShadowMirror, prediction_rows
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError

VERBS = ("predict", "classify", "regress")
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


@dataclass(frozen=True, kw_only=True)
class _Target:
    """Where a request goes: the model name as called, the verb, an optional pinned variant."""

    model: str
    verb: str | None
    suffix: str
    pinned: str | None
    pinned_kind: str | None


def _parse_path(tail: str) -> _Target | None:
    """`name[/versions/V|/labels/L][:verb|/metadata]` -> target, or None if malformed."""
    verb = None
    last_slash = tail.rfind("/")
    colon = tail.find(":", last_slash + 1)
    if colon >= 0:
        verb = tail[colon + 1 :]
        tail = tail[:colon]
    parts = tail.split("/")
    suffix = ""
    if parts[-1] == "metadata" and verb is None and len(parts) in (2, 4):
        suffix = "/metadata"
        parts = parts[:-1]
    if len(parts) == 1 and parts[0]:
        return _Target(model=parts[0], verb=verb, suffix=suffix, pinned=None, pinned_kind=None)
    if len(parts) == 3 and parts[0] and parts[1] in ("versions", "labels") and parts[2]:
        return _Target(
            model=parts[0], verb=verb, suffix=suffix, pinned=parts[2], pinned_kind=parts[1]
        )
    return None


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
    """Holds the live state: routing tables, breakers, metrics, capture, feedback.

    `feedback_key` signs request ids (see `request_ids`); None draws a random key for this
    process, so feedback then matches only the ids this replica issued."""

    def __init__(
        self, config: GatewayConfig, *, admin_token: str | None, feedback_key: bytes | None = None
    ) -> None:
        self.config = config
        self.metrics = GatewayMetrics()
        self.routes = {route.model: route for route in config.routes}
        self.tables: dict[str, RoutingTable] = {}
        for route in config.routes:
            self.set_table(
                route.model,
                RoutingTable.build(
                    [v.endpoint.name for v in route.variants], [v.weight for v in route.variants]
                ),
            )
        self.endpoints = {
            route.model: {v.endpoint.name: v.endpoint for v in route.variants}
            for route in config.routes
        }
        self.breakers: dict[tuple[str, str], Breaker] = {}
        for route in config.routes:
            for endpoint in [v.endpoint for v in route.variants] + [route.fallback]:
                if endpoint is not None:
                    self.breakers[(route.model, endpoint.name)] = Breaker(
                        threshold=config.breaker.failure_threshold,
                        open_seconds=config.breaker.open_seconds,
                    )
        rng = random.Random(config.seed)
        self.random = rng.random
        self.capture = CaptureQueue(config.capture_queue_size)
        self.feedback = FeedbackBook(
            RequestIds(feedback_key or random_key()),
            window=config.feedback_window,
            client_ids=any(route.client_request_ids for route in config.routes),
        )
        self.admin = AdminApi(self, admin_token)
        self.client = UpstreamClient(
            limit=config.upstream_connections, timeout_seconds=config.upstream_timeout_seconds
        )
        self.origins: dict[str, Origin] = {}
        for route in config.routes:
            endpoints = [v.endpoint for v in route.variants] + [s.endpoint for s in route.shadows]
            for endpoint in endpoints + ([route.fallback] if route.fallback else []):
                self.origins[endpoint.url] = Origin.of(endpoint.url)
        self.shadows = ShadowMirror(
            client=self.client,
            origins=self.origins,
            metrics=self.metrics,
            timeout_seconds=config.shadow_timeout_seconds,
            max_in_flight=config.shadow_max_in_flight,
            random=self.random,
        )

    # -- state ------------------------------------------------------------------------------

    def set_table(self, model: str, table: RoutingTable) -> None:
        """Swaps in a new routing table in one step: requests already routed keep their
        upstream, the next request sees the new weights; none is dropped."""
        self.tables[model] = table
        for name, weight in zip(table.names, table.weights, strict=True):
            self.metrics.weights.set((model, name), weight)

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

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body_bytes)
        app.router.add_post("/v1/feedback", self.handle_feedback)
        app.router.add_post("/v1/models/{tail:[\\s\\S]+}", self.handle_predict)
        app.router.add_get("/v1/models/{tail:[\\s\\S]+}", self.handle_status)
        app.router.add_get("/metrics", self.handle_metrics)
        self.admin.register(app.router)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle_unknown)
        app.on_shutdown.append(self._stop_shadows)
        app.on_cleanup.append(self._close)
        return app

    async def _stop_shadows(self, _app: web.Application) -> None:
        await self.shadows.close(self.config.shadow_timeout_seconds)

    async def _close(self, _app: web.Application) -> None:
        self.client.close()

    # -- handlers ---------------------------------------------------------------------------

    async def handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(404, f"no such endpoint: {request.method} {request.path}")

    async def handle_metrics(self, _request: web.Request) -> web.Response:
        for (model, name), breaker in self.breakers.items():
            self.metrics.breaker_open.set((f"{model}/{name}",), float(breaker.state != "closed"))
        return web.Response(
            text=self.metrics.render(), content_type="text/plain", charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    async def handle_status(self, request: web.Request) -> web.Response:
        target = _parse_path(request.match_info["tail"])
        if target is None or target.verb is not None:
            return error_response(404, f"malformed model path: {request.path}")
        route = self.routes.get(target.model)
        if route is None:
            return error_response(404, f"Servable not found for request: Latest({target.model})")
        endpoint = self._pinned(route, target) if target.pinned else route.variants[0].endpoint
        if isinstance(endpoint, web.Response):
            return endpoint
        path = endpoint.model_path(route.model) + target.suffix
        try:
            status, answer = await self.client.request(self.origins[endpoint.url], "GET", path)
        except (UpstreamError, TimeoutError):
            return error_response(503, f"upstream {endpoint.name!r} is unavailable")
        return web.Response(status=status, body=answer, content_type=_JSON)

    def _pinned(self, route: Route, target: _Target) -> Endpoint | web.Response:
        """The variant a `/versions/V` or `/labels/L` path names (a label is a variant name)."""
        for variant in route.variants:
            endpoint = variant.endpoint
            if (target.pinned_kind == "versions" and endpoint.version == target.pinned) or (
                target.pinned_kind == "labels" and endpoint.name == target.pinned
            ):
                return endpoint
        kind = "version" if target.pinned_kind == "versions" else "label"
        known = [
            (v.endpoint.version if kind == "version" else v.endpoint.name) or "-"
            for v in route.variants
        ]
        return error_response(
            404,
            f"model {route.model!r} has no variant with {kind} {target.pinned!r};"
            f" {kind}s: {', '.join(known)}",
        )

    async def handle_predict(self, request: web.Request) -> web.Response:
        target = _parse_path(request.match_info["tail"])
        if target is None or target.verb not in VERBS:
            return error_response(
                404, f"malformed request: POST {request.path}; expected"
                " /v1/models/NAME[/versions/V|/labels/L]:predict|classify|regress",
            )  # fmt: skip
        route = self.routes.get(target.model)
        if route is None:
            return error_response(404, f"Servable not found for request: Latest({target.model})")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                413, f"request body is larger than {self.config.max_body_bytes} bytes"
            )
        if target.pinned is not None:
            pinned = self._pinned(route, target)
            if isinstance(pinned, web.Response):
                return pinned
            endpoint = pinned
        else:
            point = self._point(route, request, body)
            if isinstance(point, web.Response):
                return point
            table = self.tables[route.model]
            endpoint = self.endpoints[route.model][table.names[table.pick(point)]]
        return await self._forward(request, route, endpoint, target.verb, body)

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
            if fallback is None or fallback is endpoint:
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
            if route.capture_rate and self.random() < route.capture_rate:
                self._capture(
                    headers[REQUEST_ID_HEADER], model, variant,
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
        breaker = self.breakers[(model, endpoint.name)]
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
            if not self.metrics.confidence.observe((model, variant), confidence):
                self.metrics.prediction_nonfinite.inc((model, variant))

    async def handle_feedback(self, request: web.Request) -> web.Response:
        """Counts one event for the variant its request id names (see the feedback module)."""
        try:
            event = parse_feedback(json.loads(await request.read()))
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                413, f"request body is larger than {self.config.max_body_bytes} bytes"
            )
        except (ValueError, RecursionError) as error:
            self.metrics.feedback_refused.inc(("invalid",))
            return error_response(400, str(error) if isinstance(error, FeedbackError) else
                                  f"request body is not valid JSON: {error}")  # fmt: skip
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
