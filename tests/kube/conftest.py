"""Fixtures: the stand-in API server (see fake_apiserver.py: not a real one) and clients of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kubernetes.client import ApiClient

from tests.kube.fake_apiserver import FakeApiServer, running
from tfprod.runtime.kube import api_client

TOKENS = {f"token-{name}" for name in ("a", "b", "c", "d", "e", "f", "g", "h")}
NAMESPACE = "ml"


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    with running(TOKENS) as api:
        yield api


@pytest.fixture
def client_for(apiserver: FakeApiServer) -> Iterator[Callable[[str], ApiClient]]:
    """A fresh API client per call, authenticated with `token-<name>`, as separate controllers."""
    clients: list[ApiClient] = []

    def make(name: str) -> ApiClient:
        client = api_client(host=apiserver.url, token=f"token-{name}")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
