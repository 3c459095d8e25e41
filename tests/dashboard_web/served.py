"""The controller API with the dashboard over an in-memory view (real Policies, a real
`ObservationLog`), and an aiohttp app speaking the gateway's explanations contract
(`GET /v1/models/{name}/explanations?limit=N`; another part builds the real one)."""

from __future__ import annotations

from aiohttp import web

from tests.controller.policies import canary_policy
from tests.controller_api.view import TOKEN, InMemoryView
from tests.gateway.upstream import ServerThread
from tfprod.runtime.controller import build_api
from tfprod.runtime.dashboard import GatewayExplanations, ObservationLog, add_dashboard

DEPLOYMENT = "recommendation-engine"
EXPLANATION = {
    "method": "gradients",
    "version": "rec-v2.1.0",
    "prediction": [0.8],
    "attributions": {"f0": 0.7, "f1": 0.1},
    "ranking": ["f0", "f1"],
}


def explainer_gateway(asked: list[str]) -> web.Application:
    async def explanations(request: web.Request) -> web.Response:
        asked.append(request.query_string)
        if request.match_info["name"] != DEPLOYMENT:
            return web.json_response({"error": "no explainer configured"}, status=404)
        return web.json_response({"explanations": [EXPLANATION] * int(request.query["limit"])})

    app = web.Application()
    app.router.add_get("/v1/models/{name}/explanations", explanations)
    return app


class Controller:
    """The controller API with the dashboard, over an in-memory view and a real log."""

    def __init__(self, servers: ServerThread, gateways: list[str]) -> None:
        self.policy = canary_policy()
        self.view = InMemoryView({DEPLOYMENT: self.policy, "other": canary_policy(name="other")})
        self.log = ObservationLog()
        self.explanations = GatewayExplanations(gateways)
        servers.run(self.explanations.__aenter__)

        def app() -> web.Application:
            api = build_api(self.view, TOKEN, metrics=self.log, explanations=self.explanations)
            add_dashboard(api)
            return api

        self.url = servers.serve(app)
