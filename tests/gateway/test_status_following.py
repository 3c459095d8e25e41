"""Gateways following one status document, as real processes in front of real model servers.

Two `tfprod gateway` replicas read the same mounted policy and status directory, as the local
platform lays them out; two `tfprod serve` processes serve version 1 and version 2 of the tiny
classifier. A status write reaches both replicas, a restarted replica serves the live weights,
the fallback version takes traffic when the status says so, version and label addressing agree
with the merged model status, and a policy change reaches running gateways.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from examples.toy_models import export_tiny_classifier
from tests.gateway.conftest import BODY
from tests.gateway.processes import Process, gateway, model_server
from tests.gateway.upstream import ServerThread
from tests.services import skip_or_fail
from tfprod.policy import (
    Policy,
    next_status,
    policy_digest,
    policy_json,
    read_status,
    status_json,
    write_status,
)

pytestmark = pytest.mark.slow
DEPLOYMENT = "scorer"
PREDICT = f"/v1/models/{DEPLOYMENT}:predict"


def policy(**changes: Any) -> Policy:
    artifact = "file:///registry/models/rec/versions/{}"
    return Policy.model_validate(
        {
            "name": DEPLOYMENT,
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": "rec-v1", "artifact": artifact.format("rec-v1"), "role": "stable"},
                {"id": "rec-v2", "artifact": artifact.format("rec-v2"), "role": "canary"},
                {"id": "rec-v0", "artifact": artifact.format("rec-v0"), "role": "fallback"},
            ],
            "traffic": {"weights": {"rec-v1": 90, "rec-v2": 10}},
            "safety": {"fallback_version": "rec-v0", "triggers": {"error_rate > 5%": "pause"}},
            **changes,
        }
    )


@dataclass(kw_only=True)
class Platform:
    root: Path
    policies: Path
    status_dir: Path
    token: str
    servers: dict[str, Process]
    replicas: list[Process]

    @property
    def status_file(self) -> Path:
        return self.status_dir / f"{DEPLOYMENT}-status.json"

    def start_replica(self) -> Process:
        token_file = self.root / "admin-token"
        return gateway(
            "--policies",
            str(self.policies),
            "--status-dir",
            str(self.status_dir),
            "--admin-token-file",
            str(token_file),
            "--status-poll-seconds",
            "0.2",
            log=self.root / f"gateway-{secrets.token_hex(3)}.log",
        )

    def state(self, replica: Process) -> dict[str, Any]:
        answer = httpx.get(f"{replica.url}/admin/v1/state", headers=self.headers(), timeout=10)
        assert answer.status_code == 200, answer.text
        model: dict[str, Any] = answer.json()["models"][DEPLOYMENT]
        return model

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    root = tmp_path_factory.mktemp("status-following")
    export_tiny_classifier(root / "v1" / "rec" / "1", seed=0)
    export_tiny_classifier(root / "v2" / "rec" / "2", seed=1)
    servers: dict[str, Process] = {}
    replicas: list[Process] = []
    try:
        servers["1"] = model_server(root / "v1" / "rec", "rec", root / "serve-1.log")
        servers["2"] = model_server(root / "v2" / "rec", "rec", root / "serve-2.log")
        policies = root / "policies"
        (policies / DEPLOYMENT).mkdir(parents=True)
        (policies / DEPLOYMENT / "policy.json").write_text(policy_json(policy()))
        endpoints = {
            "rec-v1": servers["1"].url,
            "rec-v2": servers["2"].url,
            "rec-v0": servers["1"].url,
        }
        (policies / DEPLOYMENT / "endpoints.json").write_text(json.dumps(endpoints))
        token = secrets.token_urlsafe(16)
        (root / "admin-token").write_text(token)
        found = Platform(
            root=root,
            policies=policies,
            status_dir=root / "status",
            token=token,
            servers=servers,
            replicas=replicas,
        )
        replicas.extend([found.start_replica(), found.start_replica()])
        yield found
    finally:
        for process in [*replicas, *servers.values()]:
            process.stop()


def variants(replica: Process, count: int) -> list[str]:
    return [
        httpx.post(f"{replica.url}{PREDICT}", content=BODY, timeout=30).headers["X-Tfprod-Variant"]
        for _ in range(count)
    ]


def wait_for_generation(platform: Platform, generation: int, within: float) -> None:
    """Waits until every replica reports `generation`; fails after `within` seconds (the
    policy's actuation bound: the contract a writer relies on)."""
    deadline = time.monotonic() + within
    while {platform.state(r)["generation"] for r in platform.replicas} != {generation}:
        if time.monotonic() > deadline:
            seen = [platform.state(r)["generation"] for r in platform.replicas]
            pytest.fail(f"replicas report generations {seen}, not {generation}, after {within} s")
        time.sleep(0.05)


def write(platform: Platform, weights: dict[str, float]) -> int:
    status = next_status(
        read_status(platform.status_file),
        deployment=DEPLOYMENT,
        weights=weights,
        policy=policy_digest(policy()),
        writer="test",
    )
    write_status(platform.status_file, status)
    return status.generation


BOUND = policy().controller.actuation_bound_seconds


def test_without_a_status_document_replicas_serve_the_declared_weights(
    platform: Platform,
) -> None:
    assert not platform.status_file.exists()
    for replica in platform.replicas:
        state = platform.state(replica)
        assert (state["generation"], state["weights"]) == (
            0,
            {"rec-v1": 90.0, "rec-v2": 10.0, "rec-v0": 0.0},
        )
        assert state["fallback"] == "rec-v0"


def test_two_replicas_follow_one_status_file_within_the_actuation_bound(
    platform: Platform,
) -> None:
    generation = write(platform, {"rec-v1": 0, "rec-v2": 100, "rec-v0": 0})
    wait_for_generation(platform, generation, within=BOUND)
    for replica in platform.replicas:
        assert variants(replica, 10) == ["rec-v2"] * 10
        metrics = httpx.get(f"{replica.url}/metrics").text
        assert f'tfprod_gateway_status_generation{{deployment="scorer"}} {generation}' in metrics


def test_the_fallback_version_takes_the_traffic_a_status_gives_it(platform: Platform) -> None:
    generation = write(platform, {"rec-v1": 0, "rec-v2": 0, "rec-v0": 100})
    wait_for_generation(platform, generation, within=BOUND)
    for replica in platform.replicas:
        assert variants(replica, 10) == ["rec-v0"] * 10


def test_an_admin_weight_change_is_written_to_the_status_file_and_reaches_the_other_replica(
    platform: Platform,
) -> None:
    first, second = platform.replicas
    before = platform.state(first)["generation"]
    answer = httpx.put(
        f"{first.url}/admin/v1/models/{DEPLOYMENT}/weights",
        json={"weights": {"rec-v1": 70, "rec-v2": 30, "rec-v0": 0}},
        headers=platform.headers(),
    )
    assert answer.json() == {
        "model": DEPLOYMENT,
        "generation": before + 1,
        "weights": {"rec-v1": 70.0, "rec-v2": 30.0, "rec-v0": 0.0},
    }
    written = read_status(platform.status_file)
    assert written is not None
    assert (written.generation, written.weights) == (
        before + 1,
        {"rec-v1": 70.0, "rec-v2": 30.0, "rec-v0": 0.0},
    )
    assert written.writer.startswith("gateway admin API on ")
    assert written.policy_digest == policy_digest(policy())
    wait_for_generation(platform, before + 1, within=BOUND)
    assert platform.state(second)["weights"] == {"rec-v1": 70.0, "rec-v2": 30.0, "rec-v0": 0.0}


def test_a_restarted_gateway_serves_the_live_weights(platform: Platform) -> None:
    generation = write(platform, {"rec-v1": 0, "rec-v2": 100, "rec-v0": 0})
    wait_for_generation(platform, generation, within=BOUND)
    old = platform.replicas.pop()
    old.stop()
    platform.replicas.append(platform.start_replica())
    restarted = platform.replicas[-1]
    # Its very first answers already follow the status, not the declared 90/10.
    assert variants(restarted, 10) == ["rec-v2"] * 10
    assert platform.state(restarted)["generation"] == generation


def test_a_status_naming_other_versions_is_refused_and_reported(platform: Platform) -> None:
    serving = platform.state(platform.replicas[0])
    bad = next_status(
        read_status(platform.status_file),
        deployment=DEPLOYMENT,
        weights={"rec-v1": 50, "rec-v9": 50},
        policy="sha256:x",
        writer="test",
    )
    write_status(platform.status_file, bad)

    def problems() -> list[str | None]:
        return [platform.state(r)["status_problem"] for r in platform.replicas]

    deadline = time.monotonic() + 10
    while None in problems() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (
        problems()
        == [
            f"{platform.status_file}: generation {bad.generation} of 'scorer' gives weights to"
            " rec-v1, rec-v9; the route's variants are rec-v1, rec-v2, rec-v0: still serving"
            f" generation {serving['generation']}"
        ]
        * 2
    )
    assert [platform.state(r)["weights"] for r in platform.replicas] == [serving["weights"]] * 2
    generation = write(platform, {"rec-v1": 100, "rec-v2": 0, "rec-v0": 0})
    wait_for_generation(platform, generation, within=BOUND)
    assert [platform.state(r)["status_problem"] for r in platform.replicas] == [None, None]


def test_version_and_label_addressing_agree_with_the_reported_status(platform: Platform) -> None:
    replica = platform.replicas[0]
    status = httpx.get(f"{replica.url}/v1/models/{DEPLOYMENT}").json()
    assert [entry["version"] for entry in status["model_version_status"]] == ["1", "2"]
    for version, variant in (("1", "rec-v1"), ("2", "rec-v2")):
        answer = httpx.post(
            f"{replica.url}/v1/models/{DEPLOYMENT}/versions/{version}:predict", content=BODY
        )
        direct = httpx.post(
            f"{platform.servers[version].url}/v1/models/rec/versions/{version}:predict",
            content=BODY,
        )
        assert (answer.status_code, answer.headers["X-Tfprod-Variant"], answer.content) == (
            200,
            variant,
            direct.content,
        )
        one = httpx.get(f"{replica.url}/v1/models/{DEPLOYMENT}/versions/{version}").json()
        assert [entry["version"] for entry in one["model_version_status"]] == [version]
    for label, variant in (
        ("stable", "rec-v1"),
        ("canary", "rec-v2"),
        ("fallback", "rec-v0"),
        ("rec-v2", "rec-v2"),
    ):
        answer = httpx.post(
            f"{replica.url}/v1/models/{DEPLOYMENT}/labels/{label}:predict", content=BODY
        )
        assert (answer.status_code, answer.headers["X-Tfprod-Variant"]) == (200, variant)
    missing = httpx.post(f"{replica.url}/v1/models/{DEPLOYMENT}/versions/7:predict", content=BODY)
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "model 'scorer' has no variant with version '7'; versions: 1, 2"},
    )
    unknown = httpx.post(f"{replica.url}/v1/models/{DEPLOYMENT}/labels/gold:predict", content=BODY)
    assert unknown.json() == {
        "error": "model 'scorer' has no variant with label 'gold'; labels: canary, fallback,"
        " rec-v0, rec-v1, rec-v2, stable"
    }


def test_a_changed_policy_reaches_running_gateways(platform: Platform) -> None:
    path = platform.policies / DEPLOYMENT / "policy.json"
    replace_text(path, "{")
    deadline = time.monotonic() + 10
    while None in [platform.state(r)["policy_problem"] for r in platform.replicas]:
        if time.monotonic() > deadline:
            pytest.fail("the broken policy was not reported")
        time.sleep(0.05)
    assert [platform.state(r)["policy_problem"] for r in platform.replicas] == [
        f"keeping the running policy: {path} is not JSON: Expecting property name enclosed in"
        " double quotes: line 1 column 2 (char 1)"
    ] * 2
    assert variants(platform.replicas[0], 3) == ["rec-v1"] * 3  # still the running route
    changed = policy(debugger={"capture_rate": 0.25, "explainers": ["shap"]})
    replace_text(path, policy_json(changed))
    deadline = time.monotonic() + 10
    while {platform.state(r)["policy_digest"] for r in platform.replicas} != {
        policy_digest(changed)
    }:
        if time.monotonic() > deadline:
            pytest.fail("the changed policy did not reach every replica")
        time.sleep(0.05)
    for replica in platform.replicas:
        state = platform.state(replica)
        assert (state["capture_rate"], state["policy_problem"]) == (0.25, None)
        # Same versions: the live weights stay.
        assert state["weights"] == {"rec-v1": 100.0, "rec-v2": 0.0, "rec-v0": 0.0}
    replace_text(platform.policies / DEPLOYMENT / "policy.json", policy_json(policy()))


def replace_text(path: Path, text: str) -> None:
    """Replaces `path` in one step, as the kubelet swaps a mounted ConfigMap: a reader never
    sees it half written."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class FakeApiServer:
    """A local HTTP server speaking the Kubernetes API's ConfigMap GET path (no API server can
    be had here, see DESIGN.md): answers 404 until `configmap` is set, checks the token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.configmap: dict[str, Any] | None = None
        self.requests: list[tuple[str, str, bool]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        authorized = request.headers.get("Authorization") == f"Bearer {self.token}"
        self.requests.append((request.method, request.path, authorized))
        if not authorized:
            return web.json_response({"kind": "Status", "message": "Unauthorized"}, status=401)
        if request.path != f"/api/v1/namespaces/ml/configmaps/{DEPLOYMENT}-status":
            return web.json_response({"kind": "Status", "message": "forbidden"}, status=403)
        if self.configmap is None:
            return web.json_response({"kind": "Status", "reason": "NotFound"}, status=404)
        return web.json_response(self.configmap)


def self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the CA file that trusts it (openssl)."""
    key, cert = directory / "api.key", directory / "api.crt"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        skip_or_fail(f"openssl cannot make a test certificate: {error}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_gateway_in_a_cluster_follows_the_status_configmap_through_the_api(
    platform: Platform, scheme: str
) -> None:
    token = secrets.token_urlsafe(16)
    token_file = platform.root / "sa-token"
    token_file.write_text(token + "\n")
    api = FakeApiServer(token)
    threads = ServerThread()
    replica = None
    tls, ca_file = self_signed(platform.root) if scheme == "https" else (None, None)
    try:
        url = threads.serve(api.app, tls)
        assert url.startswith(f"{scheme}://")
        replica = gateway(
            "--policies",
            str(platform.policies),
            "--status-namespace",
            "ml",
            "--kubernetes-api",
            url,
            "--kubernetes-token-file",
            str(token_file),
            *(["--kubernetes-ca-file", str(ca_file)] if ca_file else []),
            "--admin-token-file",
            str(platform.root / "admin-token"),
            "--status-poll-seconds",
            "0.2",
            log=platform.root / "gateway-k8s.log",
        )
        platform.replicas.append(replica)
        assert platform.state(replica)["generation"] == 0  # 404: the declared weights
        status = next_status(
            None,
            deployment=DEPLOYMENT,
            weights={"rec-v1": 0, "rec-v2": 100, "rec-v0": 0},
            policy=policy_digest(policy()),
            writer="controller",
        )
        api.configmap = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{DEPLOYMENT}-status",
                "namespace": "ml",
                "resourceVersion": "4711",
            },
            "data": {"status.json": status_json(status)},
        }
        deadline = time.monotonic() + BOUND
        while platform.state(replica)["generation"] != 1:
            if time.monotonic() > deadline:
                pytest.fail(f"the ConfigMap did not reach the gateway in {BOUND} s")
            time.sleep(0.05)
        assert variants(replica, 5) == ["rec-v2"] * 5
        refused = httpx.put(
            f"{replica.url}/admin/v1/models/{DEPLOYMENT}/weights",
            json={"weights": {"rec-v1": 100, "rec-v2": 0, "rec-v0": 0}},
            headers=platform.headers(),
        )
        assert (refused.status_code, refused.json()) == (
            409,
            {
                "error": "weights of 'scorer' come from configmap ml/scorer-status, which the"
                " controller writes; this gateway only reads it"
            },
        )
        assert {(method, path, ok) for method, path, ok in api.requests} == {
            ("GET", f"/api/v1/namespaces/ml/configmaps/{DEPLOYMENT}-status", True)
        }
        token_file.write_text("rotated-but-wrong\n")  # the token is read on every poll
        deadline = time.monotonic() + 10
        while platform.state(replica)["status_problem"] is None:
            if time.monotonic() > deadline:
                pytest.fail("a refused GET was not reported")
            time.sleep(0.05)
        assert platform.state(replica)["status_problem"] == (
            "configmap ml/scorer-status: GET answered 401: Unauthorized"
        )
        assert platform.state(replica)["generation"] == 1  # still serving what it had
        token_file.write_text(token)
        deadline = time.monotonic() + 10
        while platform.state(replica)["status_problem"] is not None:
            if time.monotonic() > deadline:
                pytest.fail("the problem did not clear once the token was right again")
            time.sleep(0.05)
        assert token not in replica.log.read_text()
    finally:
        if replica is not None:
            platform.replicas.remove(replica)
            replica.stop()
        threads.close()
