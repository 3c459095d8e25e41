"""Version and label addressing through the gateway, consistent with what it reports.

A deployment's versions each run on their own upstream, and every upstream numbers its
version as TF Serving does (the registry's serving version). The gateway maps:

- `GET /v1/models/<dep>`: the `model_version_status` entries of every live variant's
  upstream, merged (first listed variant first). Each number it reports is addressable.
- `/versions/N` (status, metadata, predict, classify, regress): the variant whose upstream
  reports version N (or whose endpoint is configured with version N), called at
  `/versions/N`. When two upstreams report the same number, the first listed variant has it.
  An unknown N re-reads the upstreams' status, at most once a second, then answers 404
  listing the versions known.
- `/labels/L`: L is a variant's name (a Policy version id) or a route label: a Policy role
  (`stable`, `canary`, `fallback`, and `challenger` when only one version has it), which is
  also the name the registry's aliases use by convention. The gateway does not read registry
  aliases: the Policy's roles are the source of truth for what `stable` means while a rollout
  runs. The call goes to that variant's upstream as the variant is configured.
- no version or label: weighted (or sticky) routing; `GET .../metadata` asks the first variant.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any, Protocol

from aiohttp import web

from tfprod.runtime.gateway.config import Endpoint
from tfprod.runtime.gateway.state import RouteState
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError
from tfprod.runtime.tfserving_api import ModelPath, parse_status_path

RELEARN_SECONDS = 1.0
_JSON = "application/json"


def _error(status: int, message: str) -> web.Response:
    return web.Response(status=status, body=json.dumps({"error": message}), content_type=_JSON)


class Upstreams(Protocol):
    """What addressing reads (the gateway): the routes and the upstream connection pools."""

    states: dict[str, RouteState]
    client: UpstreamClient
    origins: dict[str, Origin]


class Addressing:
    """Resolves `/versions/N` and `/labels/L` to variants, and answers model status."""

    def __init__(self, gateway: Upstreams) -> None:
        self.gateway = gateway

    async def status(self, request: web.Request) -> web.Response:
        """`GET /v1/models/<dep>[/versions/N|/labels/L][/metadata]`."""
        target = parse_status_path(request.rel_url.raw_path)
        if target is None or not target.name:
            return _error(404, f"malformed model path: {request.path}")
        state = self.gateway.states.get(target.name)
        if state is None:
            return _error(404, f"Servable not found for request: Latest({target.name})")
        suffix = "/metadata" if target.metadata else ""
        if target.version is None and target.label is None:
            if target.metadata:
                return await self._proxy_get(state.variant(state.names[0]), state, suffix)
            return await self._merged_status(state)
        pinned = await self.pinned(state, target)
        if isinstance(pinned, web.Response):
            return pinned
        return await self._proxy_get(pinned, state, suffix)

    async def pinned(self, state: RouteState, target: ModelPath) -> Endpoint | web.Response:
        """The endpoint a `/versions/N` or `/labels/L` path names, or a 404 naming the known
        versions or labels."""
        model = state.route.model
        if target.label is not None:
            name = state.label_target(target.label)
            if name is not None:
                return state.variant(name)
            return _error(
                404,
                f"model {model!r} has no variant with label {target.label!r};"
                f" labels: {', '.join(state.labels())}",
            )
        assert target.version is not None  # a pinned path has a label or a version
        version = str(int(target.version))
        if version not in state.versions:
            await self._learn_versions(state)
        name = state.versions.get(version)
        if name is None:
            known = sorted(state.versions, key=int)
            return _error(
                404,
                f"model {model!r} has no variant with version {version!r};"
                f" versions: {', '.join(known) or '-'}",
            )
        endpoint = state.variant(name)
        return endpoint if endpoint.version == version else replace(endpoint, version=version)

    async def _learn_versions(self, state: RouteState, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - state.versions_checked < RELEARN_SECONDS:
            return
        state.versions_checked = now
        await self._statuses(state)

    async def _statuses(self, state: RouteState) -> list[list[dict[str, Any]]]:
        """Each live variant's `model_version_status` entries (empty when it failed), and the
        version -> variant map learnt from them."""
        endpoints = [state.variant(name) for name in state.names]
        answers = await asyncio.gather(*(self._entries(e, state) for e in endpoints))
        versions: dict[str, str] = {}
        for endpoint, entries in zip(endpoints, answers, strict=True):
            if endpoint.version is not None:
                versions.setdefault(endpoint.version, endpoint.name)
                continue
            for entry in entries:
                number = str(entry.get("version"))
                if number.isdigit():  # TF Serving versions are int64s
                    versions.setdefault(number, endpoint.name)
        state.versions = versions
        return answers

    async def _entries(self, endpoint: Endpoint, state: RouteState) -> list[dict[str, Any]]:
        try:
            status, body = await self._get(endpoint, state, "")
            document = json.loads(body) if status == 200 else {}
        except (UpstreamError, TimeoutError, ValueError):
            return []
        entries = document.get("model_version_status") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            return []
        wanted = endpoint.version
        return [
            entry
            for entry in entries
            if isinstance(entry, dict) and (wanted is None or str(entry.get("version")) == wanted)
        ]

    async def _merged_status(self, state: RouteState) -> web.Response:
        answers = await self._statuses(state)
        state.versions_checked = time.monotonic()
        merged: list[dict[str, Any]] = []
        seen: set[str] = set()
        for entries in answers:
            for entry in entries:
                version = str(entry.get("version"))
                if version not in seen:
                    seen.add(version)
                    merged.append(entry)
        if not merged:
            return _error(503, f"no upstream of {state.route.model!r} reported its status")
        return web.json_response({"model_version_status": merged})

    async def _get(self, endpoint: Endpoint, state: RouteState, suffix: str) -> tuple[int, bytes]:
        gateway = self.gateway
        path = endpoint.model_path(state.route.model) + suffix
        return await gateway.client.request(gateway.origins[endpoint.url], "GET", path)

    async def _proxy_get(self, endpoint: Endpoint, state: RouteState, suffix: str) -> web.Response:
        try:
            status, answer = await self._get(endpoint, state, suffix)
        except (UpstreamError, TimeoutError):
            return _error(503, f"upstream {endpoint.name!r} is unavailable")
        return web.Response(status=status, body=answer, content_type=_JSON)
