"""Explanations through the gateway: forwarded to the explainer process, never computed here.

- `POST /v1/models/NAME[/versions/N|/labels/L]:explain` and `GET /v1/models/NAME/
  explanations[?limit=N]` go to the explainer (`GatewayConfig.explainer_url`, `tfprod gateway
  --explainer-url`) as they came, and its answer comes back as it gave it: its 400s name the
  bad field, value and allowed ones. The explainer resolves versions and labels as the
  gateway does (serving version numbers, Policy version ids and roles). An unknown deployment
  is the gateway's own 404; with no explainer configured the answer is 404 naming the missing
  setting; an explainer that cannot be reached, 503.
- Capture feeds the explainer: every captured exchange (after redaction) is posted to the
  explainer's `/v1/captures`, fire and forget, at most `CAPTURE_MAX_IN_FLIGHT` at a time
  (more are dropped), each within `CAPTURE_TIMEOUT_SECONDS`; counted by
  `tfprod_gateway_explain_captures_total{model, outcome}` (`sent`, `dropped`, `failed`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import unquote

from aiohttp import web

from tfprod.runtime.gateway.capture import CaptureRecord
from tfprod.runtime.gateway.metrics import Counter
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError

EXPLAIN_TIMEOUT_SECONDS = 120.0
"""An explain request waits this long for the explainer (SHAP on 16 rows takes seconds)."""
CAPTURE_TIMEOUT_SECONDS = 2.0
CAPTURE_MAX_IN_FLIGHT = 16
_JSON = "application/json"


def _error(status: int, message: str) -> web.Response:
    return web.Response(status=status, body=json.dumps({"error": message}), content_type=_JSON)


class ExplainForward:
    """Forwards explanation calls and captured samples to the explainer at `url` (None: no
    explainer). `known(name)` says whether the gateway routes deployment `name`;
    `max_body_bytes` is the gateway's body limit, named in its 413."""

    def __init__(
        self,
        url: str | None,
        client: UpstreamClient,
        known: Callable[[str], bool],
        *,
        max_body_bytes: int,
    ) -> None:
        self.url = url
        self.max_body_bytes = max_body_bytes
        self.origin = None if url is None else Origin.of(url)
        self.client = client
        self.known = known
        self.in_flight: set[asyncio.Task[None]] = set()
        self.captures = Counter(
            "tfprod_gateway_explain_captures_total",
            "Captured exchanges posted to the explainer: sent, dropped (too many in flight),"
            " failed (the explainer did not take it).",
            ("model", "outcome"),
        )

    def register(self, router: web.UrlDispatcher) -> None:
        """Adds the explain and listing routes (before the gateway's own `/v1/models/...`)."""
        router.add_post(r"/v1/models/{tail:[^:]+:explain}", self.forward)
        router.add_get(r"/v1/models/{name:[^/:]+}/explanations", self.forward)

    async def forward(self, request: web.Request) -> web.Response:
        """Forwards an explain (POST) or listing (GET) call, as the module docstring says."""
        method = request.method
        raw = request.rel_url.raw_path
        name = unquote(raw.split("/")[3].split(":")[0]) if raw.count("/") >= 3 else ""
        if not self.known(name):
            return _error(404, f"Servable not found for request: Latest({name})")
        if self.origin is None:
            return _error(
                404,
                f"explanations of {name!r} need an explainer: this gateway has no"
                " explainer_url (tfprod gateway --explainer-url); declare a ModelDebugger",
            )
        try:
            body = await request.read() if method == "POST" else b""
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"request body is larger than {self.max_body_bytes} bytes")
        path = request.rel_url.raw_path_qs
        try:
            status, answer = await self.client.request(
                self.origin, method, path, body, timeout=EXPLAIN_TIMEOUT_SECONDS
            )
        except (UpstreamError, TimeoutError):
            return _error(503, f"the explainer at {self.url} is unavailable")
        return web.Response(status=status, body=answer, content_type=_JSON)

    def capture(self, record: CaptureRecord) -> None:
        """Posts one captured exchange to the explainer, without waiting for it."""
        if self.origin is None:
            return
        if len(self.in_flight) >= CAPTURE_MAX_IN_FLIGHT:
            self.captures.inc((record.model, "dropped"))
            return
        body = json.dumps(record.to_json(), separators=(",", ":")).encode()
        task = asyncio.get_running_loop().create_task(self._send(record.model, body))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _send(self, model: str, body: bytes) -> None:
        assert self.origin is not None
        try:
            status, _ = await self.client.request(
                self.origin, "POST", "/v1/captures", body, timeout=CAPTURE_TIMEOUT_SECONDS
            )
        except (UpstreamError, TimeoutError):
            status = 0
        self.captures.inc((model, "sent" if status == 202 else "failed"))

    async def close(self) -> None:
        for task in list(self.in_flight):
            task.cancel()
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    def render(self) -> str:
        return "\n".join(self.captures.render()) + "\n"
