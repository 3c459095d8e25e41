"""A real Kubernetes API server on loopback: etcd plus kube-apiserver, built by
scripts/install-kube-apiserver.sh, with self-signed certificates and static tokens.

No scheduler, controller manager or kubelet runs, so no pod ever starts: what runs here are
the API's own parts (admission, schema validation, RBAC, resourceVersions, Leases).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes.client import (
    ApiClient,
)

from tests.apiserver.tools import Tools, require
from tests.services import free_port, skip_or_fail
from tfprod.runtime.kube import api_client

ADMIN_TOKEN = "tfprod-test-admin"
"""Bearer token of a `system:masters` user: what the tests and Terraform use."""
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """A running API server: where it is and how to authenticate to it."""

    url: str
    ca_file: Path
    kubeconfig: Path
    """A kubeconfig (JSON) whose current context is this server with the admin token."""
    tokens: frozenset[str]
    """Bearer tokens the server accepts, each a `system:masters` user named like it."""

    def client(self, token: str = ADMIN_TOKEN) -> ApiClient:
        return api_client(host=self.url, token=token, ca_file=str(self.ca_file))


def _write_key(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key) PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tfprod-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (directory / n for n in ("ca.crt", "server.crt", "server.key"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(key_file, server_key)
    return ca_file, cert_file, key_file


def _kubeconfig(path: Path, url: str, ca_file: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "test",
                        "cluster": {"server": url, "certificate-authority": str(ca_file)},
                    }
                ],
                "users": [{"name": "admin", "user": {"token": ADMIN_TOKEN}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
                "current-context": "test",
            }
        )
    )


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)


def _wait(ready: str, process: subprocess.Popen[bytes], log: Path, **options: object) -> None:
    """Until `ready` answers 200 ok; a skip or failure with the log's tail when it never does."""
    name = Path(str(process.args[0])).name  # type: ignore[index]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            skip_or_fail(f"{name} exited with code {process.returncode} while starting:\n{tail}")
        try:
            if httpx.get(ready, timeout=2, **options).status_code == 200:  # type: ignore[arg-type]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    skip_or_fail(f"{name} did not answer {ready} within 120 s:\n{log.read_text()[-2000:]}")


@contextmanager
def running_cluster(tools: Tools, directory: Path, tokens: frozenset[str]) -> Iterator[Cluster]:
    """etcd and kube-apiserver in `directory`, on free loopback ports, until the block ends."""
    require(tools.etcd, tools.kube_apiserver)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = _certificates(directory)
    service_account_key = directory / "service-account.key"
    _write_key(service_account_key, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    all_tokens = frozenset({ADMIN_TOKEN, *tokens})
    token_file = directory / "tokens.csv"
    token_file.write_text(
        "".join(f'{token},{token},{token},"system:masters"\n' for token in sorted(all_tokens))
    )
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    url = f"https://127.0.0.1:{api_port}"
    with ExitStack() as stack:
        etcd_log = directory / "etcd.log"
        etcd = stack.enter_context(
            _process(
                [str(tools.etcd), "--name=test", f"--data-dir={directory / 'etcd'}",
                 f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
                 f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
                 f"--initial-cluster=test={peer_url}", "--unsafe-no-fsync"],
                etcd_log,
            )
        )  # fmt: skip
        _wait(f"{etcd_url}/health", etcd, etcd_log)
        api_log = directory / "kube-apiserver.log"
        apiserver = stack.enter_context(
            _process(
                [str(tools.kube_apiserver), f"--etcd-servers={etcd_url}",
                 "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
                 f"--secure-port={api_port}", f"--cert-dir={directory / 'certs'}",
                 f"--tls-cert-file={cert_file}", f"--tls-private-key-file={key_file}",
                 f"--token-auth-file={token_file}", "--authorization-mode=RBAC",
                 f"--service-account-key-file={service_account_key}",
                 f"--service-account-signing-key-file={service_account_key}",
                 f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                 "--service-cluster-ip-range=10.96.0.0/16", "--endpoint-reconciler-type=none",
                 "--profiling=false"],
                api_log,
            )
        )  # fmt: skip
        _wait(
            f"{url}/readyz",
            apiserver,
            api_log,
            verify=ssl.create_default_context(cafile=ca_file),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        kubeconfig = directory / "kubeconfig"
        _kubeconfig(kubeconfig, url, ca_file)
        yield Cluster(url=url, ca_file=ca_file, kubeconfig=kubeconfig, tokens=all_tokens)


def get(cluster: Cluster, path: str) -> httpx.Response:
    """GET `path` (relative to the API root) as the admin."""
    return httpx.get(
        f"{cluster.url}/{path}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        verify=ssl.create_default_context(cafile=cluster.ca_file),
        timeout=10,
    )
