"""Test-only helpers: a TF Serving-like upstream and a thread that serves aiohttp apps.

The upstream answers `:predict` like TF Serving's REST API for a 4-feature logistic model:
400 with `{"error": ...}` for malformed input, `{"predictions": [[p], ...]}` otherwise. Tests
can slow it down, make it fail, or shift its predictions, and read how many requests it saw.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvloop
from aiohttp import web

FEATURES = 4
WEIGHTS = (1.0, -0.5, 0.25, 0.0)
T = TypeVar("T")


class FakeModelServer:
    """A TF Serving-like REST server for one model; its knobs may be changed while it runs."""

    def __init__(self, *, bias: float = 0.0) -> None:
        self.bias = bias
        self.delay_seconds = 0.0
        self.fail_with: int | None = None
        self.received = 0
        self.answered = 0
        self.in_flight = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/v1/models/{tail:.+}", self.predict)
        app.router.add_get("/v1/models/{name}", self.status)
        return app

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                       "status": {"error_code": "OK", "error_message": ""}}]}
        )  # fmt: skip

    async def predict(self, request: web.Request) -> web.Response:
        self.received += 1
        self.in_flight += 1
        try:
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            if self.fail_with is not None:
                return _error(self.fail_with, "injected failure")
            try:
                document = json.loads(await request.read())
            except (ValueError, RecursionError) as error:
                return _error(400, f"JSON Parse error: {error}")
            instances = document.get("instances") if isinstance(document, dict) else None
            if not isinstance(instances, list) or not instances:
                return _error(400, "Missing 'instances' key or it is not a non-empty list")
            predictions = []
            for row in instances:
                if (
                    not isinstance(row, list)
                    or len(row) != FEATURES
                    or not all(
                        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                        for x in row
                    )
                ):
                    return _error(400, f"each instance must be {FEATURES} finite numbers")
                score = sum(w * x for w, x in zip(WEIGHTS, row, strict=True)) + self.bias
                predictions.append([1.0 / (1.0 + math.exp(-max(min(score, 50.0), -50.0)))])
            return web.Response(
                body=json.dumps({"predictions": predictions}), content_type="application/json"
            )
        finally:
            self.in_flight -= 1
            self.answered += 1


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class ServerThread:
    """Serves aiohttp apps on 127.0.0.1 from a background thread with its own event loop."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()  # as the gateway runs in production
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def run(self, coroutine_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Runs a coroutine on the server thread's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine_factory(), self.loop).result(30)

    def serve(
        self,
        app_factory: Callable[[], web.Application],
        tls: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> str:
        """Starts the app on `port` (default a free one), over TLS with `tls`; returns its base
        URL."""

        async def start() -> str:
            runner = web.AppRunner(app_factory(), access_log=None, shutdown_timeout=5)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls)
            await site.start()
            self.runners.append(runner)
            host, bound = runner.addresses[0][:2]
            return f"{'https' if tls else 'http'}://{host}:{bound}"

        return self.run(start)

    def close(self) -> None:
        async def stop() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()

        self.run(stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
