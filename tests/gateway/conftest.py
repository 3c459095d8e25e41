"""Fixtures: fake model servers and a gateway in front of them, on loopback ports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.upstream import FakeModelServer, ServerThread
from tfprod.runtime.gateway import Gateway, GatewayConfig
from tfprod.runtime.local.ports import free_port

ADMIN_TOKEN = "test-admin-token-3f9c"


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.close()


class Stack:
    """Fake upstreams by name, the gateway in front of them, and an HTTP client for it."""

    def __init__(self, servers: ServerThread) -> None:
        self.servers = servers
        self.upstreams: dict[str, FakeModelServer] = {}
        self.urls: dict[str, str] = {}
        self.gateway: Gateway | None = None
        self.url = ""
        self.clients: list[httpx.Client] = []

    def upstream(self, name: str, **knobs: Any) -> str:
        server = FakeModelServer(**knobs)
        self.upstreams[name] = server
        self.urls[name] = self.servers.serve(server.app)
        return self.urls[name]

    def start(
        self,
        config: dict[str, Any],
        *,
        token: str | None = ADMIN_TOKEN,
        feedback_key: bytes | None = None,
        advertised: bool = False,
    ) -> httpx.Client:
        """`advertised`: the gateway names its own URL in the ids it issues."""
        port = free_port() if advertised else 0
        self.gateway = Gateway(
            GatewayConfig.from_dict(config),
            admin_token=token,
            feedback_key=feedback_key,
            advertise_url=f"http://127.0.0.1:{port}" if advertised else None,
        )
        self.url = self.servers.serve(self.gateway.build_app, port=port)
        client = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(client)
        return client


@pytest.fixture
def stack(servers: ServerThread) -> Iterator[Stack]:
    stack = Stack(servers)
    yield stack
    for client in stack.clients:
        client.close()


def route(stack: Stack, weights: dict[str, float], **extra: Any) -> dict[str, Any]:
    """A one-model config (`clf`) whose variants are the named fake upstreams."""
    variants = [
        {"name": name, "url": stack.urls[name], "weight": weight}
        for name, weight in weights.items()
    ]
    return {"routes": [{"model": "clf", "variants": variants, **extra}], "seed": 7}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


BODY = b'{"instances": [[1.0, 2.0, 3.0, 4.0]]}'


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    """One sample's value from the gateway's /metrics (0 when absent)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Polls `condition()` for up to 10 s (ordering, not timing: nothing asserts a duration)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)
