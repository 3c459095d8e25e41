"""The token-protected admin API: read the gateway's state, set weights, drain captures.

Every call needs `Authorization: Bearer <token>`: none gives 401, a wrong one 403 (compared in
constant time). Without a configured token the admin API refuses every call. The token itself
never appears in answers, logs or errors.

Weights are percent, as in the Policy and the status document: `PUT .../weights` takes
`{"weights": {"<variant>": <percent>, ...}}` naming every variant once, each in [0, 100],
summing to 100; nothing is normalised and no other field is accepted. With a local status file
the change is written there (the next generation) and served from it like any replica serves
it; with a status ConfigMap the controller owns the weights and the call answers 409.
Errors are 400 with TF Serving's `{"error": ...}` body and name the variants.
"""

from __future__ import annotations

import json
import math
from typing import Any, Protocol

from aiohttp import web

from tfprod.policy import weights_problem
from tfprod.runtime.bearer import Handler, error_response as _error, guarded
from tfprod.runtime.gateway.capture import CaptureQueue
from tfprod.runtime.gateway.follow import StatusReadOnlyError
from tfprod.runtime.gateway.routing import names_problem
from tfprod.runtime.gateway.state import RouteState

ADMIN_PREFIX = "/admin/v1"
MAX_CAPTURE_BATCH = 10_000


class AdminTarget(Protocol):
    """What the admin API reads and changes (the gateway)."""

    states: dict[str, RouteState]
    capture: CaptureQueue

    def change_weights(self, model: str, weights: dict[str, float]) -> RouteState: ...


class AdminApi:
    def __init__(self, gateway: AdminTarget, token: str | None) -> None:
        self.gateway = gateway
        self._token = None if token is None else token.encode()

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{ADMIN_PREFIX}/state", self._guard(self.state))
        router.add_put(f"{ADMIN_PREFIX}/models/{{model}}/weights", self._guard(self.set_weights))
        router.add_post(f"{ADMIN_PREFIX}/capture/drain", self._guard(self.drain_capture))

    def _guard(self, handler: Handler) -> Handler:
        return guarded(
            handler,
            self._token,
            name="admin",
            realm="tfprod-gateway",
            disabled="admin API disabled: configure admin_token_env or admin_token_file",
        )

    async def state(self, _request: web.Request) -> web.Response:
        gateway = self.gateway
        return web.json_response(
            {
                "models": {model: state.snapshot() for model, state in gateway.states.items()},
                "capture": {
                    "queued": gateway.capture.queue.qsize(),
                    "dropped": gateway.capture.dropped,
                },
            }
        )

    async def set_weights(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        state = self.gateway.states.get(model)
        if state is None:
            return _error(
                404, f"unknown model {model!r}; models: {', '.join(sorted(self.gateway.states))}"
            )
        try:
            document = json.loads(await request.read())
        except ValueError as error:
            return _error(400, f"request body is not valid JSON: {error}")
        weights = _weights(document, state.names)
        if isinstance(weights, str):
            return _error(400, weights)
        try:
            changed = self.gateway.change_weights(model, weights)
        except StatusReadOnlyError as error:
            return _error(409, str(error))
        return web.json_response(
            {"model": model, "weights": changed.percent(), "generation": changed.generation}
        )

    async def drain_capture(self, request: web.Request) -> web.Response:
        raw = request.query.get("limit", "1000")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CAPTURE_BATCH:
            return _error(
                400, f"limit: must be an integer in [1, {MAX_CAPTURE_BATCH}], got {raw!r}"
            )
        records = self.gateway.capture.drain(int(raw))
        return web.json_response({"records": [record.to_json() for record in records]})


def _weights(document: Any, names: tuple[str, ...]) -> dict[str, float] | str:
    """The weights of a `PUT .../weights` body, or the error naming what is wrong."""
    shape = (
        'body must be {"weights": {"<variant>": <percent>, ...}}'
        f" for variants {', '.join(names)}"
    )
    if not isinstance(document, dict):
        return shape
    unknown = sorted(set(document) - {"weights"})
    if unknown:
        return f"unknown field {unknown[0]!r}; allowed: weights"
    weights = document.get("weights")
    if not isinstance(weights, dict) or not all(
        isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
        for w in weights.values()
    ):
        return shape
    problem = names_problem(names, weights)
    if problem is not None:
        return problem
    ordered = {name: float(weights[name]) for name in names}
    return weights_problem(ordered) or ordered
