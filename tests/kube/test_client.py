"""Building the API client: explicit host and token, or the pod's service account."""

from __future__ import annotations

import pytest

from tfprod.runtime.kube import api_client


def test_an_explicit_host_sends_the_token_as_a_bearer_header() -> None:
    client = api_client(host="http://127.0.0.1:1", token="secret-token")
    try:
        assert client.configuration.host == "http://127.0.0.1:1"
        assert client.configuration.auth_settings()["BearerToken"]["value"] == (
            "Bearer secret-token"
        )
    finally:
        client.close()


def test_a_host_without_a_token_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        api_client(host="https://127.0.0.1:6443")

    assert (
        str(raised.value) == "a Kubernetes API token is required with host 'https://127.0.0.1:6443'"
    )


def test_outside_a_pod_without_a_host_says_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)

    with pytest.raises(ValueError) as raised:
        api_client()

    assert str(raised.value) == (
        "no in-cluster service account (Service host/port is not set.): give the API server's "
        "host and token"
    )
