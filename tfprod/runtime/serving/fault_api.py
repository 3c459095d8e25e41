"""The HTTP side of fault injection: `/metrics` and the loopback-only `/admin/v1/faults`.

Present only when fault injection is enabled (see `faults`):
- `GET /metrics`: the plan and the injected counts in Prometheus' text format, so a test can
  tell a fault is on (`tfprod_serving_fault_*`).
- `GET /admin/v1/faults`: `{"plan": {...}, "counted": n}`, the plan and the inference requests
  counted since it was set.
- `PUT /admin/v1/faults`: replaces the plan with the body's (fields left out take their
  defaults, unknown fields are refused with 400); answers as GET does.
- `POST /admin/v1/faults/exit`: answers 202, then the server exits with `INJECTED_EXIT_CODE`.
Admin calls from a non-loopback peer get 403. Errors are TF Serving's `{"error": ...}` body.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

from aiohttp import web

from tfprod.runtime.serving import json_tensor
from tfprod.runtime.serving.faults import (
    INJECTED_EXIT_CODE,
    FaultInjector,
    FaultPlan,
    FaultPlanError,
    injected_error,
    is_loopback,
)

FAULTS_PATH = "/admin/v1/faults"

Answer = Callable[[], Awaitable[web.Response]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json(status, json_tensor.error_body(message))


class FaultApi:
    def __init__(self, injector: FaultInjector) -> None:
        self._injector = injector

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get("/metrics", self.metrics)
        router.add_get(FAULTS_PATH, self._loopback_only(self.show))
        router.add_put(FAULTS_PATH, self._loopback_only(self.replace))
        router.add_post(f"{FAULTS_PATH}/exit", self._loopback_only(self.exit_now))

    async def answer(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        """Answers one inference request as the plan says: delayed, failed, then exiting."""
        decision = self._injector.next_request()
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        if decision.error:
            error = injected_error()
            response = _error(error.http_status, error.message)
        else:
            response = await answer()
        if decision.exit_after:
            await _send_then_exit(request, response, "after the planned inference requests")
        return response

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            text=self._injector.render_metrics(), content_type="text/plain", charset="utf-8"
        )

    def _loopback_only(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            peer = request.remote or ""
            if not is_loopback(peer):
                return _error(403, f"fault injection takes calls from loopback only, not {peer}")
            return await handler(request)

        return guarded

    async def show(self, _request: web.Request) -> web.StreamResponse:
        document = {"plan": self._injector.plan.to_json(), "counted": self._injector.counted}
        return _json(200, json.dumps(document).encode())

    async def replace(self, request: web.Request) -> web.StreamResponse:
        try:
            plan = FaultPlan.from_json(json.loads(await request.read()))
        except FaultPlanError as error:
            return _error(400, str(error))
        except ValueError as error:
            return _error(400, f"request body is not valid JSON: {error}")
        self._injector.set_plan(plan)
        return await self.show(request)

    async def exit_now(self, request: web.Request) -> web.StreamResponse:
        body = json.dumps({"exiting": True, "exit_code": INJECTED_EXIT_CODE}).encode()
        await _send_then_exit(request, _json(202, body), "now, as asked")


async def _send_then_exit(request: web.Request, response: web.Response, why: str) -> NoReturn:
    """Writes `response` to the caller, then ends the process at once, as a crash would."""
    await response.prepare(request)
    await response.write_eof()
    sys.stderr.write(f"tfprod serve: injected fault: exiting {why}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(INJECTED_EXIT_CODE)
