"""Cloud identity: the stores authenticate through the SDKs' default chains."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.registry.conftest import AZURITE_ACCOUNT, BUCKET, REPO, Server, _stop
from tests.services import free_port, skip_or_fail
from tfprod.runtime.registry import RegistryError, open_store
from tfprod.runtime.registry.azure_store import (
    CONNECTION_STRING_VARIABLE,
    ENDPOINT_VARIABLE,
    AzureStore,
)

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


class EntraLikeCredential:
    """An azure-core `TokenCredential` handing out JWT-shaped tokens as Microsoft Entra ID
    would (issuer, audience, lifetime), unsigned: Azurite's `--oauth basic` checks those claims,
    not signatures, and no identity provider can be reached here. It records the scopes asked
    for, so the test sees that the store asked for a storage token."""

    def __init__(self, *, audience: str = "https://storage.azure.com") -> None:
        self.audience = audience
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_options: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        now = int(time.time())
        claims = {
            "aud": self.audience,
            "iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            "iat": now,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": str(uuid.uuid4()),
        }
        token = ".".join(
            _base64url(part)
            for part in (json.dumps({"alg": "RS256", "typ": "JWT"}), json.dumps(claims), "-")
        )
        return AccessToken(token, now + 3600)


def _base64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), valid for an hour, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file


@pytest.fixture
def azurite_oauth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Azurite in OAuth mode over HTTPS with a fresh self-signed certificate, trusted by the
    Azure SDK through `REQUESTS_CA_BUNDLE`; yields its blob endpoint, with a container made."""
    binary = REPO / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        skip_or_fail(f"{binary} is missing: run scripts/install-system-deps.sh")
        return
    cert, key = _self_signed_certificate(tmp_path)
    port = free_port()
    log = tmp_path / "azurite.log"
    command = [
        str(binary),
        *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
        *("--oauth", "basic", "--cert", str(cert), "--key", str(key)),
        *("--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"),
    ]
    endpoint = f"https://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        if not _answers_over_tls(endpoint, cert, process):
            skip_or_fail(f"azurite-blob --oauth basic did not start: {log.read_text()[-400:]}")
            return
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        monkeypatch.delenv(CONNECTION_STRING_VARIABLE, raising=False)
        monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient(endpoint, credential=EntraLikeCredential()).create_container(BUCKET)
        yield endpoint
    finally:
        _stop(process)


def _answers_over_tls(url: str, cert: Path, process: subprocess.Popen[bytes]) -> bool:
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, context=context, timeout=1).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.mark.service
def test_azure_store_reaches_azurite_with_a_token_credential(azurite_oauth: str) -> None:
    credential = EntraLikeCredential()
    store = AzureStore(
        AZURITE_ACCOUNT, BUCKET, "tokens/", uri=f"az://{AZURITE_ACCOUNT}/{BUCKET}/tokens",
        credential=credential,
    )  # fmt: skip

    store.put_if_absent("a.json", b"{}")

    assert store.get("a.json").data == b"{}"
    assert store.list("") == ["a.json"]
    assert set(credential.scopes) == {("https://storage.azure.com/.default",)}


@pytest.mark.service
def test_azurite_refuses_a_token_for_another_audience(azurite_oauth: str) -> None:
    # The token path is really checked: the same store with a token meant for another
    # service is turned away.
    store = AzureStore(
        AZURITE_ACCOUNT, BUCKET, "tokens/", uri=f"az://{AZURITE_ACCOUNT}/{BUCKET}/tokens",
        credential=EntraLikeCredential(audience="https://vault.azure.net"),
    )  # fmt: skip

    with pytest.raises(RegistryError) as error:
        store.put_if_absent("a.json", b"{}")

    assert "Invalid token audience." in str(error.value)
