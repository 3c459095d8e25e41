"""The status ConfigMap store against the stand-in API server (tests/kube/fake_apiserver.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.kube.conftest import NAMESPACE
from tests.kube.fake_apiserver import FakeApiServer
from tfprod.runtime.kube import ConfigMapStatusStore, StatusStoreError, StoredStatus, api_client

KEY = "status.json"


def store(client: ApiClient, **options: Any) -> ConfigMapStatusStore:
    return ConfigMapStatusStore(client, namespace=NAMESPACE, deployment="clf", key=KEY, **options)


def document(generation: int, count: int = 0) -> str:
    return json.dumps({"generation": generation, "count": count})


def increment(current: str | None) -> str:
    """The next document: generation and counter each up by one (starting at 1 and 1)."""
    if current is None:
        return document(1, 1)
    parsed = json.loads(current)
    return document(parsed["generation"] + 1, parsed["count"] + 1)


def stored_document(apiserver: FakeApiServer) -> dict[str, int]:
    configmap = apiserver.get("configmaps", NAMESPACE, "clf-status")
    assert configmap is not None
    parsed: dict[str, int] = json.loads(configmap["data"][KEY])
    return parsed


def test_reads_none_while_there_is_no_status_configmap(
    client_for: Callable[[str], ApiClient],
) -> None:
    assert store(client_for("a")).read() is None
    assert store(client_for("a")).read_status() is None


def test_creates_the_missing_configmap_once_with_the_controller_label(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    written = store(client_for("a")).update_status(increment)

    assert written == StoredStatus(
        text=document(1, 1), generation=1, resource_version="1", conflicts=0
    )
    configmap = apiserver.get("configmaps", NAMESPACE, "clf-status")
    assert configmap is not None
    assert configmap["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "tfprod-controller"}
    assert store(client_for("b")).read() == StoredStatus(
        text=document(1, 1), generation=1, resource_version="1"
    )
    assert apiserver.counts["POST configmaps"] == 1


def test_racing_creators_create_once_and_the_losers_apply_their_change_on_top(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    writers = [store(client_for(name)) for name in "abcdef"]
    barrier = threading.Barrier(len(writers))

    def write(writer: ConfigMapStatusStore) -> None:
        barrier.wait()
        writer.update_status(increment)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored_document(apiserver) == {"generation": 6, "count": 6}
    created = apiserver.counts["POST configmaps"] - apiserver.counts["AlreadyExists"]
    assert created == 1


@pytest.mark.slow
def test_concurrent_writers_lose_no_update(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    writers, increments = 6, 15
    stores = [store(client_for(name), max_attempts=50) for name in "abcdef"[:writers]]
    conflicts: list[int] = []
    barrier = threading.Barrier(writers)

    def work(writer: ConfigMapStatusStore) -> None:
        barrier.wait()
        for _ in range(increments):
            conflicts.append(writer.update_status(increment).conflicts)

    threads = [threading.Thread(target=work, args=(writer,)) for writer in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored_document(apiserver) == {
        "generation": writers * increments,
        "count": writers * increments,
    }
    assert len(conflicts) == writers * increments
    # Every refused write was a 409 the store met and retried, and there were some.
    assert sum(conflicts) == apiserver.counts["Conflict"] + apiserver.counts["AlreadyExists"]
    assert apiserver.counts["Conflict"] > 0


def test_a_stale_resource_version_gets_409_and_the_change_is_reapplied_to_the_new_text(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    ours, theirs = store(client_for("a")), store(client_for("b"))
    ours.write_status(document(1, 0))
    seen: list[str | None] = []

    def change_racing_another_writer(current: str | None) -> str:
        seen.append(current)
        if len(seen) == 1:  # another controller writes between our read and our write
            theirs.write_status(document(2, 100))
        return increment(current)

    written = ours.update_status(change_racing_another_writer)

    assert seen == [document(1, 0), document(2, 100)]
    assert written.conflicts == 1
    assert written.text == document(3, 101)
    assert apiserver.counts["Conflict"] == 1
    assert stored_document(apiserver) == {"generation": 3, "count": 101}


def test_gives_up_after_the_bounded_attempts_with_a_clear_error(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    ours, theirs = store(client_for("a"), max_attempts=3), store(client_for("b"))
    ours.write_status(document(1))

    def always_overtaken(current: str | None) -> str:
        theirs.update_status(increment)
        return increment(current)

    with pytest.raises(StatusStoreError) as raised:
        ours.update_status(always_overtaken)

    assert str(raised.value) == (
        "status ConfigMap ml/clf-status: gave up after 3 attempts, each refused because "
        "another writer changed it in between (409 Conflict)"
    )
    assert apiserver.counts["Conflict"] == 3


def test_a_controller_that_loses_the_lease_mid_retry_stops_writing(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    calls: list[str | None] = []
    # The Lease is lost after the first attempt, before the retry its 409 calls for.
    ours = store(client_for("a"), may_write=lambda: len(calls) < 2)
    theirs = store(client_for("b"))
    ours.write_status(document(1))

    def overtaken_while_losing_the_lease(current: str | None) -> str:
        calls.append(current)
        if len(calls) == 1:
            theirs.update_status(increment)  # our first write will meet a 409
        return increment(current)

    with pytest.raises(StatusStoreError) as raised:
        ours.update_status(overtaken_while_losing_the_lease)

    assert str(raised.value) == (
        "status ConfigMap ml/clf-status: not written: this controller may not write now (it "
        "does not hold the leader Lease)"
    )
    assert calls == [document(1), document(2, 1)]
    assert apiserver.counts["Conflict"] == 1
    assert stored_document(apiserver) == {"generation": 2, "count": 1}


def test_a_write_that_does_not_raise_the_generation_is_refused(
    client_for: Callable[[str], ApiClient],
) -> None:
    writer = store(client_for("a"))
    writer.write_status(document(4))

    with pytest.raises(StatusStoreError) as raised:
        writer.write_status(document(4))

    assert str(raised.value) == (
        "status ConfigMap ml/clf-status: a write must raise the generation above the stored 4, "
        "got 4"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "status.json is not a JSON object"),
        ("{", "status.json is not a JSON object"),
        ('{"generation": 0}', "status.json: generation must be an integer of at least 1, got 0"),
        ('{"weights": {}}', "status.json: generation must be an integer of at least 1, got None"),
    ],
)
def test_a_document_without_a_generation_is_refused_before_any_write(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient], text: str, message: str
) -> None:
    with pytest.raises(StatusStoreError) as raised:
        store(client_for("a")).write_status(text)

    assert str(raised.value) == f"status ConfigMap ml/clf-status: {message}"
    assert apiserver.counts["POST configmaps"] == 0


def test_patches_only_its_key_so_other_keys_and_labels_stay(
    apiserver: FakeApiServer, client_for: Callable[[str], ApiClient]
) -> None:
    writer = store(client_for("a"))
    writer.write_status(document(1))
    configmap = apiserver.get("configmaps", NAMESPACE, "clf-status")
    assert configmap is not None
    configmap["metadata"]["labels"]["team"] = "ranking"
    configmap["data"]["note.txt"] = "kept"
    apiserver.handle("PUT", "/api/v1/namespaces/ml/configmaps/clf-status", "token-b", "", configmap)

    writer.update_status(increment)

    after = apiserver.get("configmaps", NAMESPACE, "clf-status")
    assert after is not None
    assert after["data"] == {KEY: document(2, 1), "note.txt": "kept"}
    assert after["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "tfprod-controller",
        "team": "ranking",
    }


def test_an_unknown_token_is_refused_with_401_in_the_error(
    apiserver: FakeApiServer,
) -> None:
    stranger = api_client(host=apiserver.url, token="not-a-token")
    try:
        with pytest.raises(StatusStoreError) as raised:
            store(stranger).read()
    finally:
        stranger.close()

    assert str(raised.value) == (
        "status ConfigMap ml/clf-status: read refused by the API server: 401 Unauthorized"
    )
    assert "not-a-token" not in str(raised.value)


def test_an_unreachable_api_server_is_a_clear_error(apiserver: FakeApiServer) -> None:
    url = apiserver.url
    apiserver.close()
    gone = api_client(host=url, token="token-a")
    gone.configuration.retries = 0
    try:
        with pytest.raises(StatusStoreError) as raised:
            store(gone).read()
    finally:
        gone.close()

    assert str(raised.value) == (
        "status ConfigMap ml/clf-status: read failed, API server unreachable: MaxRetryError"
    )
