"""Cloud identity: the stores authenticate through the SDKs' default chains."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.registry.conftest import BUCKET, Server
from tfprod.runtime.registry import open_store

ROLE = "arn:aws:iam::123456789012:role/tfprod-registry"


@pytest.mark.service
def test_s3_store_authenticates_through_web_identity(
    moto_server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As IRSA sets it up in a pod: a projected token file and a role, no static keys; the
    # endpoint override points STS (AssumeRoleWithWebIdentity) and S3 at moto's server.
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.env["AWS_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "tfprod-test")
    import boto3

    store = open_store(f"s3://{BUCKET}/{uuid.uuid4().hex}")
    store.put_if_absent("a.json", b"{}")

    credentials = store._client._get_credentials()  # which link of the chain answered
    assert credentials.method == "assume-role-with-web-identity"
    assert store.get("a.json").data == b"{}"
    frozen = credentials.get_frozen_credentials()
    identity = boto3.client(
        "sts",
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
    ).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/tfprod-registry/tfprod-test"
