"""The conditional-write contract every backend must honour, against real servers."""

from __future__ import annotations

import pytest

from tfprod.runtime.registry import (
    ObjectNotFoundError,
    PreconditionFailedError,
    RegistryError,
    open_store,
)


def test_put_if_absent_refuses_to_overwrite_an_existing_object(registry_uri: str) -> None:
    store = open_store(registry_uri)
    store.put_if_absent("a/b.json", b"first")

    with pytest.raises(PreconditionFailedError, match=r"conditional write of 'a/b\.json' lost"):
        store.put_if_absent("a/b.json", b"second")

    assert store.get("a/b.json").data == b"first"


def test_put_if_match_succeeds_once_per_token(registry_uri: str) -> None:
    store = open_store(registry_uri)
    first = store.put_if_absent("alias.json", b"1")
    second = store.put_if_match("alias.json", b"2", first)

    with pytest.raises(PreconditionFailedError):
        store.put_if_match("alias.json", b"stale", first)

    current = store.get("alias.json")
    assert (current.data, current.token) == (b"2", second)
    assert second != first


def test_put_if_match_fails_when_the_object_was_deleted(registry_uri: str) -> None:
    store = open_store(registry_uri)
    token = store.put_if_absent("gone.json", b"1")
    store.delete("gone.json")

    with pytest.raises(PreconditionFailedError):
        store.put_if_match("gone.json", b"2", token)


def test_list_returns_sorted_keys_under_the_prefix_only(registry_uri: str) -> None:
    store = open_store(registry_uri)
    for key in ("m/b/2", "m/a/1", "m/a/0", "n/a"):
        store.put_if_absent(key, b"x")

    assert store.list("m/a/") == ["m/a/0", "m/a/1"]
    assert store.list("m/a/1") == ["m/a/1"]
    assert store.list("") == ["m/a/0", "m/a/1", "m/b/2", "n/a"]
    assert store.list("m/") == ["m/a/0", "m/a/1", "m/b/2"]
    assert store.list("missing/") == []


def test_get_and_delete_of_a_missing_object(registry_uri: str) -> None:
    store = open_store(registry_uri)
    store.delete("never-written")

    with pytest.raises(ObjectNotFoundError, match="no object 'never-written' in the store"):
        store.get("never-written")


def test_a_missing_bucket_is_reported_by_name(missing_bucket_uri: str) -> None:
    kind = "container" if missing_bucket_uri.startswith("az://") else "bucket"

    with pytest.raises(RegistryError) as raised:
        open_store(missing_bucket_uri).put_if_absent("a", b"x")

    assert str(raised.value) == (
        f"{kind} 'no-such-bucket' of registry {missing_bucket_uri} does not exist"
    )
