"""Fixtures: one real API server (etcd + kube-apiserver) for the whole session, and clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes.client import ApiClient

from tests.apiserver.cluster import Cluster, running_cluster
from tests.apiserver.tools import Tools, find_tools

CANDIDATE_TOKENS = frozenset(f"token-{name}" for name in "abcdefgh")
"""Bearer tokens of separate controllers (`system:masters` users named like the token)."""


@pytest.fixture(scope="session")
def tools() -> Tools:
    return find_tools()


@pytest.fixture(scope="session")
def cluster(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tools, tmp_path_factory.mktemp("cluster"), CANDIDATE_TOKENS) as api:
        yield api


@pytest.fixture
def admin(cluster: Cluster) -> Iterator[ApiClient]:
    with cluster.client() as client:
        yield client
