"""The status ConfigMap store against the real kube-apiserver (tests/kube has the same
behaviours against the fast stand-in; here the resourceVersions, 409s and merge patches are
the real server's). Each test works in a namespace of its own."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client import ApiClient, CoreV1Api, V1Namespace, V1ObjectMeta

from tests.apiserver.cluster import Cluster, get
from tfprod.runtime.kube import ConfigMapStatusStore, StatusStoreError, StoredStatus

pytestmark = pytest.mark.slow

KEY = "status.json"


@pytest.fixture
def namespace(admin: ApiClient) -> Iterator[str]:
    name = f"store-{uuid.uuid4().hex[:8]}"
    CoreV1Api(admin).create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    yield name


@pytest.fixture
def client_for(cluster: Cluster) -> Iterator[Callable[[str], ApiClient]]:
    """A fresh client per call, authenticated with `token-<name>`, as separate controllers."""
    clients: list[ApiClient] = []

    def make(name: str) -> ApiClient:
        clients.append(cluster.client(f"token-{name}"))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def store(
    namespace: str, client_for: Callable[[str], ApiClient]
) -> Callable[..., ConfigMapStatusStore]:
    def make(name: str, **options: Any) -> ConfigMapStatusStore:
        return ConfigMapStatusStore(
            client_for(name), namespace=namespace, deployment="clf", key=KEY, **options
        )

    return make


def document(generation: int, count: int = 0) -> str:
    return json.dumps({"generation": generation, "count": count})


def increment(current: str | None) -> str:
    if current is None:
        return document(1, 1)
    parsed = json.loads(current)
    return document(parsed["generation"] + 1, parsed["count"] + 1)


def stored(admin: ApiClient, namespace: str) -> dict[str, Any]:
    configmap = CoreV1Api(admin).read_namespaced_config_map("clf-status", namespace)
    return {
        "data": configmap.data,
        "labels": configmap.metadata.labels,
        "resource_version": configmap.metadata.resource_version,
    }


_CONFLICTS = re.compile(
    r'^apiserver_request_total\{(?=[^}]*code="409")(?=[^}]*resource="configmaps")[^}]*\} (\S+)$',
    re.MULTILINE,
)


def configmap_conflicts(cluster: Cluster) -> int:
    """409s the API server has answered to ConfigMap requests, from its own /metrics."""
    text = get(cluster, "metrics").text
    return sum(int(float(value)) for value in _CONFLICTS.findall(text))


def test_creates_the_missing_configmap_once_with_the_controller_label(
    store: Callable[..., ConfigMapStatusStore], admin: ApiClient, namespace: str
) -> None:
    assert store("a").read() is None

    written = store("a").update_status(increment)

    after = stored(admin, namespace)
    assert after["data"] == {KEY: document(1, 1)}
    assert after["labels"] == {"app.kubernetes.io/managed-by": "tfprod-controller"}
    assert written == StoredStatus(
        text=document(1, 1), generation=1, resource_version=after["resource_version"]
    )
    assert store("b").read() == written


def test_racing_creators_create_once_and_the_losers_apply_their_change_on_top(
    store: Callable[..., ConfigMapStatusStore], admin: ApiClient, namespace: str
) -> None:
    writers = [store(name) for name in "abcdef"]
    barrier = threading.Barrier(len(writers))

    def write(writer: ConfigMapStatusStore) -> None:
        barrier.wait()
        writer.update_status(increment)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored(admin, namespace)["data"] == {KEY: document(6, 6)}


def test_concurrent_writers_lose_no_update_and_every_retry_was_a_real_409(
    store: Callable[..., ConfigMapStatusStore],
    admin: ApiClient,
    namespace: str,
    cluster: Cluster,
) -> None:
    writers, increments = 6, 10
    stores = [store(name, max_attempts=50) for name in "abcdef"[:writers]]
    stores[0].write_status(document(1, 0))
    conflicts: list[int] = []
    barrier = threading.Barrier(writers)
    before = configmap_conflicts(cluster)

    def work(writer: ConfigMapStatusStore) -> None:
        barrier.wait()
        for _ in range(increments):
            conflicts.append(writer.update_status(increment).conflicts)

    threads = [threading.Thread(target=work, args=(writer,)) for writer in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = writers * increments
    assert stored(admin, namespace)["data"] == {KEY: document(1 + total, total)}
    assert len(conflicts) == total
    assert sum(conflicts) == configmap_conflicts(cluster) - before


def test_a_stale_resource_version_gets_409_and_the_change_is_reapplied_to_the_new_text(
    store: Callable[..., ConfigMapStatusStore], admin: ApiClient, namespace: str
) -> None:
    ours, theirs = store("a"), store("b")
    ours.write_status(document(1, 0))
    seen: list[str | None] = []

    def change_racing_another_writer(current: str | None) -> str:
        seen.append(current)
        if len(seen) == 1:
            theirs.write_status(document(2, 100))
        return increment(current)

    written = ours.update_status(change_racing_another_writer)

    assert seen == [document(1, 0), document(2, 100)]
    assert (written.conflicts, written.text) == (1, document(3, 101))
    assert stored(admin, namespace)["data"] == {KEY: document(3, 101)}


def test_gives_up_after_the_bounded_attempts_with_a_clear_error(
    store: Callable[..., ConfigMapStatusStore], namespace: str
) -> None:
    ours, theirs = store("a", max_attempts=3), store("b")
    ours.write_status(document(1))

    def always_overtaken(current: str | None) -> str:
        theirs.update_status(increment)
        return increment(current)

    with pytest.raises(StatusStoreError) as raised:
        ours.update_status(always_overtaken)

    assert str(raised.value) == (
        f"status ConfigMap {namespace}/clf-status: gave up after 3 attempts, each refused "
        "because another writer changed it in between (409 Conflict)"
    )


def test_a_controller_that_loses_the_lease_mid_retry_stops_writing(
    store: Callable[..., ConfigMapStatusStore], admin: ApiClient, namespace: str
) -> None:
    calls: list[str | None] = []
    ours = store("a", may_write=lambda: len(calls) < 2)
    theirs = store("b")
    ours.write_status(document(1))

    def overtaken_while_losing_the_lease(current: str | None) -> str:
        calls.append(current)
        if len(calls) == 1:
            theirs.update_status(increment)
        return increment(current)

    with pytest.raises(StatusStoreError) as raised:
        ours.update_status(overtaken_while_losing_the_lease)

    assert str(raised.value) == (
        f"status ConfigMap {namespace}/clf-status: not written: this controller may not write "
        "now (it does not hold the leader Lease)"
    )
    assert stored(admin, namespace)["data"] == {KEY: document(2, 1)}


def test_patches_only_its_key_so_other_keys_and_labels_stay(
    store: Callable[..., ConfigMapStatusStore], admin: ApiClient, namespace: str
) -> None:
    writer = store("a")
    writer.write_status(document(1))
    CoreV1Api(admin).patch_namespaced_config_map(
        "clf-status",
        namespace,
        {"metadata": {"labels": {"team": "ranking"}}, "data": {"note.txt": "kept"}},
    )

    writer.update_status(increment)

    after = stored(admin, namespace)
    assert after["data"] == {KEY: document(2, 1), "note.txt": "kept"}
    assert after["labels"] == {
        "app.kubernetes.io/managed-by": "tfprod-controller",
        "team": "ranking",
    }


def test_an_unknown_token_is_refused_with_401_in_the_error(
    cluster: Cluster, namespace: str
) -> None:
    with cluster.client("not-a-token") as stranger, pytest.raises(StatusStoreError) as raised:
        ConfigMapStatusStore(stranger, namespace=namespace, deployment="clf", key=KEY).read()

    assert str(raised.value) == (
        f"status ConfigMap {namespace}/clf-status: read refused by the API server: 401 Unauthorized"
    )
