"""The token-protected admin API: read the gateway's state, set weights, drain captures.

Every call needs `Authorization: Bearer <token>`: none gives 401, a wrong one 403 (compared in
constant time). Without a configured token the admin API refuses every call. The token itself
never appears in answers, logs or errors.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tfprod.runtime.gateway.app import Gateway

ADMIN_PREFIX = "/admin/v1"
MAX_CAPTURE_BATCH = 10_000

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class AdminApi:
    def __init__(self, gateway: Gateway, token: str | None) -> None:
        self.gateway = gateway
        self._token = None if token is None else token.encode()

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{ADMIN_PREFIX}/state", self._guard(self.state))
        router.add_put(f"{ADMIN_PREFIX}/models/{{model}}/weights", self._guard(self.set_weights))
        router.add_post(f"{ADMIN_PREFIX}/capture/drain", self._guard(self.drain_capture))

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.Response:
            if self._token is None:
                return _error(
                    403, "admin API disabled: configure admin_token_env or admin_token_file"
                )
            given = request.headers.get("Authorization", "")
            if not given.startswith("Bearer "):
                return _error(
                    401,
                    "admin API needs an 'Authorization: Bearer <token>' header",
                    {"WWW-Authenticate": 'Bearer realm="tfprod-gateway"'},
                )
            if not hmac.compare_digest(given[len("Bearer ") :].encode(), self._token):
                return _error(403, "admin token rejected")
            return await handler(request)

        return guarded

    async def state(self, _request: web.Request) -> web.Response:
        gateway = self.gateway
        models = {}
        for model, route in gateway.routes.items():
            table = gateway.tables[model]
            models[model] = {
                "weights": dict(zip(table.names, table.weights, strict=True)),
                "sticky": None
                if route.sticky is None
                else {"source": route.sticky.source, "name": route.sticky.name},
                "shadows": {s.endpoint.name: s.fraction for s in route.shadows},
                "fallback": None if route.fallback is None else route.fallback.name,
                "capture_rate": route.capture_rate,
                "confidence_rate": route.confidence_rate,
                "breakers": {
                    name: breaker.state
                    for (owner, name), breaker in gateway.breakers.items()
                    if owner == model
                },
            }
        return web.json_response(
            {
                "models": models,
                "capture": {
                    "queued": gateway.capture.queue.qsize(),
                    "dropped": gateway.capture.dropped,
                },
            }
        )

    async def set_weights(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        table = self.gateway.tables.get(model)
        if table is None:
            return _error(
                404, f"unknown model {model!r}; models: {', '.join(sorted(self.gateway.tables))}"
            )
        try:
            document = json.loads(await request.read())
        except ValueError as error:
            return _error(400, f"request body is not valid JSON: {error}")
        weights = document.get("weights") if isinstance(document, dict) else None
        if not isinstance(weights, dict) or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
            for w in weights.values()
        ):
            return _error(
                400, 'body must be {"weights": {"<variant>": <number>, ...}}'
                f" for variants {', '.join(table.names)}",
            )  # fmt: skip
        try:
            new_table = table.with_weights(weights)
        except ValueError as error:
            return _error(400, str(error))
        self.gateway.set_table(model, new_table)
        return web.json_response(
            {"model": model, "weights": dict(zip(new_table.names, new_table.weights, strict=True))}
        )

    async def drain_capture(self, request: web.Request) -> web.Response:
        raw = request.query.get("limit", "1000")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CAPTURE_BATCH:
            return _error(
                400, f"limit: must be an integer in [1, {MAX_CAPTURE_BATCH}], got {raw!r}"
            )
        records = self.gateway.capture.drain(int(raw))
        return web.json_response({"records": [record.to_json() for record in records]})
