"""Recent explanations of a deployment, read through a gateway the controller observes.

The gateway forwards `GET /v1/models/{name}/explanations?limit=N` to the deployment's
explainer (`{"explanations": [{method, version, prediction, attributions, ranking}]}`). The
controller asks the gateway replicas it reads `/metrics` from (the direct source, as `tfprod
up` runs it), first to last, and hands back the first answer. A controller observing through
Prometheus knows no gateway address, and a gateway without an explainer answers an error: both
come back as `missing`, which the dashboard shows as "no explainer".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from tfprod.runtime.observe.http import HttpSource

Json = dict[str, Any]


class GatewayExplanations(HttpSource):
    """Reads recent explanations from `gateways` (base URLs); use in `async with`."""

    def __init__(self, gateways: Sequence[str], *, timeout_seconds: float = 2.0) -> None:
        super().__init__(timeout_seconds=timeout_seconds)
        self.gateways = tuple(url.rstrip("/") for url in gateways)

    async def recent(self, deployment: str, limit: int) -> Json:
        """`{"deployment", "explanations": [...]}`, with `missing` saying why it is empty."""
        document: Json = {"deployment": deployment, "explanations": []}
        if not self.gateways:
            return {
                **document,
                "missing": "no explainer reachable: this controller observes through"
                " Prometheus and knows no gateway address",
            }
        if self._session is None:
            raise RuntimeError("use GatewayExplanations in `async with`")
        problems = []
        for gateway in self.gateways:
            url = f"{gateway}/v1/models/{quote(deployment, safe='')}/explanations"
            try:
                async with self._session.get(url, params={"limit": str(limit)}) as response:
                    text = await response.text()
                    answer = await response.json(content_type=None) if response.ok else None
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                problems.append(f"GET {url} failed: {error or type(error).__name__}")
                continue
            explanations = answer.get("explanations") if isinstance(answer, dict) else None
            if isinstance(explanations, list):
                return {**document, "explanations": explanations[:limit]}
            problems.append(f"GET {url} answered {response.status}: {text[:200]}")
        return {**document, "missing": "no explainer: " + "; ".join(problems)}
