"""The controller's HTTP API: status, history and A/B results of each deployment, and commands.

`build_api(view, admin_token)` serves what a `ControllerView` (the controller loop) shows, as
JSON under `/v1`:

- `GET /v1/deployments`: each deployment's phase, weights, step index and generation;
- `GET /v1/deployments/{d}`: its status: phase, weights, the ramp step (percent, time in it
  and to the next), each check's outcome and reason, the A/B result, the rollback;
- `GET /v1/deployments/{d}/history`: every decision kept (time, action, reason);
- `GET /v1/deployments/{d}/ab`: the A/B test per metric (effect, interval, significance,
  samples, decision, winner);
- `GET /v1/deployments/{d}/metrics`: the controller's latest observation of it (request
  rate, error rate and p95 latency per version, drift per feature), from a `MetricsView`;
- `GET /v1/deployments/{d}/explanations?limit=N`: its recent explanations, from an
  `ExplanationsView` (the dashboard's, `tfprod.runtime.dashboard`);
- `POST /v1/deployments/{d}/{promote|abort|pause|resume}`, body empty or `{"by": "<who>"}`
  (default "controller API"): queues the command for the deployment's next tick and answers
  202 with it. Whether it applies is decided at that tick (one that does not apply in the
  phase is logged as ignored in the history).

Every call, reads included, needs `Authorization: Bearer <token>` (`tfprod.runtime.bearer`:
401 without, 403 when wrong, every call refused with 403 when no token is configured): the
status names versions, weights and the reasons of rollbacks, which are the operator's business,
and one rule for every path leaves no read to forget. Errors have TF Serving's `{"error": ...}`
body: 404 names the unknown deployment and the known ones, 400 a bad body (unknown fields are
refused). The documents are described in `tfprod.runtime.controller.api_documents`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, get_args

from aiohttp import web

from tfprod.policy import DeploymentStatus, Policy
from tfprod.runtime.bearer import Handler, error_response, guarded
from tfprod.runtime.controller import api_documents
from tfprod.runtime.controller.observation import Command, CommandKind

API_PREFIX = "/v1/deployments"
DEFAULT_BY = "controller API"
"""Who a command is from when its body does not say."""
MAX_BY_LENGTH = 200
COMMANDS: tuple[CommandKind, ...] = get_args(CommandKind)
DEFAULT_EXPLANATIONS = 5
MAX_EXPLANATIONS = 100


class ControllerView(Protocol):
    """What the API reads from, and sends commands to, the running controller."""

    def deployments(self) -> list[str]:
        """Deployment names, sorted."""
        ...

    def policy(self, deployment: str) -> Policy:
        """The deployment's Policy; KeyError if unknown."""
        ...

    def status(self, deployment: str) -> DeploymentStatus | None:
        """The status last written or read; None before there is one (declared weights)."""
        ...

    def submit(self, deployment: str, command: Command) -> None:
        """Queue `command` for the deployment's next tick."""
        ...


class MetricsView(Protocol):
    """What the controller last observed of each deployment."""

    def metrics(self, policy: Policy) -> dict[str, Any]:
        """The metrics document of `policy`'s deployment."""
        ...


class ExplanationsView(Protocol):
    """Where the controller reads a deployment's recent explanations."""

    async def recent(self, deployment: str, limit: int) -> dict[str, Any]:
        """At most `limit` explanations, newest first, or `missing` saying why there are none."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_api(
    view: ControllerView,
    admin_token: str | None,
    *,
    clock: Callable[[], datetime] = _utc_now,
    metrics: MetricsView | None = None,
    explanations: ExplanationsView | None = None,
) -> web.Application:
    """The API app over `view`; `admin_token` None refuses every call. `clock` gives the time
    a step's time in step is measured to (default: the UTC wall clock). Without `metrics` or
    `explanations` (default None), their endpoints answer 404 saying so."""
    api = _Api(view, clock, metrics, explanations)
    token = None if admin_token is None else admin_token.encode()

    def protect(handler: Handler) -> Handler:
        return guarded(
            handler,
            token,
            name="controller",
            realm="tfprod-controller",
            disabled="controller API disabled: configure the controller's admin token",
        )

    app = web.Application()
    app.router.add_get(API_PREFIX, protect(api.list))
    app.router.add_get(API_PREFIX + "/{deployment}", protect(api.detail))
    app.router.add_get(API_PREFIX + "/{deployment}/history", protect(api.history))
    app.router.add_get(API_PREFIX + "/{deployment}/ab", protect(api.ab))
    app.router.add_get(API_PREFIX + "/{deployment}/metrics", protect(api.metrics))
    app.router.add_get(API_PREFIX + "/{deployment}/explanations", protect(api.explanations))
    app.router.add_post(API_PREFIX + "/{deployment}/{command}", protect(api.command))
    return app


class _Api:
    def __init__(
        self,
        view: ControllerView,
        clock: Callable[[], datetime],
        metrics: MetricsView | None,
        explanations: ExplanationsView | None,
    ) -> None:
        self.view = view
        self.clock = clock
        self.observed = metrics
        self.explainer = explanations

    def _found(self, request: web.Request) -> tuple[str, Policy] | web.Response:
        deployment = request.match_info["deployment"]
        try:
            return deployment, self.view.policy(deployment)
        except KeyError:
            known = ", ".join(self.view.deployments()) or "none"
            return error_response(404, f"unknown deployment {deployment!r}; deployments: {known}")

    async def list(self, _request: web.Request) -> web.Response:
        view = self.view
        return web.json_response(
            {
                "deployments": [
                    api_documents.summary(name, view.policy(name), view.status(name))
                    for name in view.deployments()
                ]
            }
        )

    async def detail(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        deployment, policy = found
        status = self.view.status(deployment)
        return web.json_response(api_documents.detail(deployment, policy, status, self.clock()))

    async def history(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        deployment, _ = found
        return web.json_response(api_documents.history(deployment, self.view.status(deployment)))

    async def ab(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        deployment, policy = found
        status = self.view.status(deployment)
        return web.json_response(api_documents.ab_results(deployment, policy, status))

    async def metrics(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        if self.observed is None:
            return error_response(404, "this controller API serves no observations")
        return web.json_response(self.observed.metrics(found[1]))

    async def explanations(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        text = request.query.get("limit", str(DEFAULT_EXPLANATIONS))
        if not text.isdigit() or not 1 <= int(text) <= MAX_EXPLANATIONS:
            return error_response(
                400, f"limit: must be an integer from 1 to {MAX_EXPLANATIONS}, got {text!r}"
            )
        if self.explainer is None:
            return error_response(404, "this controller API serves no explanations")
        return web.json_response(await self.explainer.recent(found[0], int(text)))

    async def command(self, request: web.Request) -> web.Response:
        kind = request.match_info["command"]
        if kind not in COMMANDS:
            return error_response(404, f"unknown command {kind!r}; commands: {', '.join(COMMANDS)}")
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        deployment, _ = found
        try:
            command = Command(kind=kind, by=_by(await request.read()))
        except ValueError as error:
            return error_response(400, str(error))
        self.view.submit(deployment, command)
        return web.json_response(
            {"deployment": deployment, "command": {"kind": command.kind, "by": command.by}},
            status=202,
        )


def _by(body: bytes) -> str:
    """Who asked, from an empty body or `{"by": "<who>"}`; ValueError names what is wrong."""
    if not body.strip():
        return DEFAULT_BY
    try:
        document: Any = json.loads(body)
    except ValueError as error:
        raise ValueError(f"request body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError('body must be empty or {"by": "<who asked>"}')
    unknown = sorted(set(document) - {"by"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; allowed: by")
    by = document.get("by", DEFAULT_BY)
    if not isinstance(by, str) or not by.strip() or len(by) > MAX_BY_LENGTH:
        raise ValueError(
            f"by: must be a non-empty string of at most {MAX_BY_LENGTH} characters, got {by!r}"
        )
    return by.strip()
