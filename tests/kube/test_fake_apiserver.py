"""The stand-in API server answers as the real one does for what the actuator uses.

Raw HTTP, so these pin the wire behaviour (paths, codes, `Status` bodies) the actuator tests
rely on, independently of the `kubernetes` client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.kube.fake_apiserver import FakeApiServer

CONFIGMAPS = "/api/v1/namespaces/ml/configmaps"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/ml/leases"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def http(apiserver: FakeApiServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer token-a"}
    with httpx.Client(base_url=apiserver.url, headers=headers, timeout=10) as client:
        yield client


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def create(http: httpx.Client, data: dict[str, str]) -> dict[str, Any]:
    response = http.post(CONFIGMAPS, json={"metadata": {"name": "cm"}, "data": data})
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


def test_requests_without_an_accepted_bearer_token_get_401(apiserver: FakeApiServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{apiserver.url}{CONFIGMAPS}/cm", headers=headers)
        assert response.status_code == 401
        assert response.json() == status(401, "Unauthorized", "Unauthorized")


def test_a_missing_object_is_404_with_a_not_found_status(http: httpx.Client) -> None:
    response = http.get(f"{LEASES}/x")

    assert response.status_code == 404
    assert response.json() == status(404, "NotFound", 'leases "x" not found')


def test_every_write_bumps_the_resource_version(http: httpx.Client) -> None:
    created = create(http, {"k": "1"})
    replaced = http.put(f"{CONFIGMAPS}/cm", json={**created, "data": {"k": "2"}}).json()
    patched = http.patch(f"{CONFIGMAPS}/cm", json={"data": {"j": "3"}}, headers=MERGE).json()

    versions = [item["metadata"]["resourceVersion"] for item in (created, replaced, patched)]
    assert versions == ["1", "2", "3"]
    assert patched["data"] == {"k": "2", "j": "3"}
    assert patched["metadata"]["uid"] == created["metadata"]["uid"]
    assert (patched["kind"], patched["apiVersion"]) == ("ConfigMap", "v1")


@pytest.mark.parametrize("verb", ["put", "patch"])
def test_a_stale_resource_version_is_409_conflict(http: httpx.Client, verb: str) -> None:
    created = create(http, {"k": "1"})
    http.patch(f"{CONFIGMAPS}/cm", json={"data": {"k": "2"}}, headers=MERGE)
    stale = {"metadata": {"name": "cm", "resourceVersion": created["metadata"]["resourceVersion"]}}

    response = http.request(verb, f"{CONFIGMAPS}/cm", json={**stale, "data": {}}, headers=MERGE)

    assert response.status_code == 409
    assert response.json() == status(
        409,
        "Conflict",
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again",
    )
    assert http.get(f"{CONFIGMAPS}/cm").json()["data"] == {"k": "2"}


def test_creating_twice_is_409_already_exists(http: httpx.Client) -> None:
    create(http, {})

    response = http.post(CONFIGMAPS, json={"metadata": {"name": "cm"}})

    assert response.status_code == 409
    assert response.json() == status(409, "AlreadyExists", 'configmaps "cm" already exists')


@pytest.mark.parametrize(
    ("request_args", "code", "reason", "message"),
    [
        (
            {"method": "POST", "json": {"metadata": {"name": "cm", "resourceVersion": "7"}}},
            400,
            "BadRequest",
            "resourceVersion should not be set on objects to be created",
        ),
        (
            {"method": "POST", "json": {"metadata": {"name": "cm"}, "data": {"k": 1}}},
            422,
            "Invalid",
            'ConfigMap "cm" is invalid: data: Invalid value: {"k": 1}: must map keys to strings',
        ),
    ],
)
def test_bad_creates_are_refused_like_the_real_server(
    http: httpx.Client, request_args: dict[str, Any], code: int, reason: str, message: str
) -> None:
    response = http.request(url=CONFIGMAPS, **request_args)

    assert response.status_code == code
    assert response.json() == status(code, reason, message)


def test_json_patch_is_not_spoken_by_the_stand_in(http: httpx.Client) -> None:
    create(http, {})

    response = http.patch(
        f"{CONFIGMAPS}/cm",
        json=[{"op": "add", "path": "/data/k", "value": "v"}],
        headers={"Content-Type": "application/json-patch+json"},
    )

    assert response.status_code == 415


def test_lease_times_come_back_as_rfc3339_micro_times(http: httpx.Client) -> None:
    spec = {
        "holderIdentity": "a",
        "leaseDurationSeconds": 3,
        "renewTime": "2026-12-01T22:40:00+01:00",
    }

    response = http.post(LEASES, json={"metadata": {"name": "l"}, "spec": spec})

    assert response.status_code == 201
    assert response.json()["spec"]["renewTime"] == "2026-12-01T21:40:00.000000Z"


def test_a_partitioned_client_gets_503_until_healed(
    apiserver: FakeApiServer, http: httpx.Client
) -> None:
    apiserver.partition("token-a")
    assert http.get(f"{LEASES}/x").status_code == 503
    apiserver.heal("token-a")
    assert http.get(f"{LEASES}/x").status_code == 404
