"""Cluster mode end to end: `tfprod controller` as a synthesized stack's Deployment runs it.

A cluster stack is synthesized; its controller and gateway Deployments' command lines run as
real processes (see `cluster.py` for what stands in for the cluster: the stand-in API server,
which is NOT a real Kubernetes API server, a real Prometheus on loopback scraping two real
gateway replicas, real model servers). The canary ramps one step and is then told to answer
10% 5xx; the controller rolls it back. Everything goes through the status ConfigMap: each
write carries the resourceVersion it read (a write raced by another writer gets 409 and is
re-applied), both gateway replicas follow the ConfigMap, and the controller holds the Lease
(handing it back when stopped). With two controllers, the leader is SIGKILLed after the step:
the follower takes the Lease once it expires and rolls back from the ConfigMap alone.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from examples.toy_models import export_tiny_classifier
from tests.controller_cluster.cluster import (
    config_map_data,
    container,
    loopback_args,
    mount_paths,
    under,
    write_json,
)
from tests.kube.fake_apiserver import FakeApiServer
from tests.observe.processes import prometheus_server
from tfprod.constructs import App, CanaryDeployment, ModelDeployment, SafetyNet
from tfprod.constructs.runtime import (
    ADMIN_TOKEN_FILE,
    CONTROLLER_PORT,
    FEEDBACK_KEY_FILE,
    GATEWAY_ADMIN_PORT,
    GATEWAY_PORT,
    POD_IP_VARIABLE,
    PROMETHEUS_URL,
)
from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    POLICY_MOUNT_DIR,
    ControllerSettings,
    DeploymentStatus,
    configmap_name,
    endpoints_configmap_name,
    status_configmap_name,
)
from tfprod.policy.status import STATUS_KEY
from tfprod.policy.synthesized import SynthesizedStack, read_synthesized
from tfprod.runtime.local import ProcessGroup, ServiceSpec, free_port
from tfprod.runtime.registry import Registry
from tfprod.stacks import ClusterModelPlatform

pytestmark = [pytest.mark.slow, pytest.mark.service]

NAMESPACE = "ml"
DEPLOYMENT = "recommendation-engine"
STABLE, CANARY = "rec-v1", "rec-v2"
CONTROLLER_TOKEN, GATEWAY_TOKEN, OTHER_WRITER_TOKEN = "token-controller", "token-gw", "token-x"
LEASE = "tfprod-controller"
TFPROD = [sys.executable, "-m", "tfprod"]


class RacedApiServer(FakeApiServer):
    """The stand-in API server, where another writer gets in first once: when `race` is set,
    the next PATCH of the status ConfigMap is preceded by another client's write to it (an
    annotation), so the PATCH's resourceVersion is stale and it gets 409 Conflict."""

    def __init__(self, tokens: set[str]) -> None:
        super().__init__(tokens)
        self.race = threading.Event()

    def handle(
        self, method: str, path: str, token: str | None, content_type: str, body: Any
    ) -> tuple[HTTPStatus, dict[str, Any]]:
        status_path = (
            f"/api/v1/namespaces/{NAMESPACE}/configmaps/{status_configmap_name(DEPLOYMENT)}"
        )
        if method == "PATCH" and path == status_path and self.race.is_set():
            self.race.clear()
            super().handle(
                "PATCH",
                path,
                OTHER_WRITER_TOKEN,
                "application/merge-patch+json",
                {"metadata": {"annotations": {"example.com/touched": "yes"}}},
            )
        return super().handle(method, path, token, content_type, body)


@pytest.fixture
def apiserver() -> Iterator[RacedApiServer]:
    api = RacedApiServer({CONTROLLER_TOKEN, GATEWAY_TOKEN, OTHER_WRITER_TOKEN})
    api.start()
    try:
        yield api
    finally:
        api.close()


def synthesize(outdir: Path, registry: str) -> SynthesizedStack:
    app = App(outdir=str(outdir))
    stack = ClusterModelPlatform(app, "cluster", registry_uri=registry, namespace=NAMESPACE)
    engine = ModelDeployment(
        stack,
        DEPLOYMENT,
        name=DEPLOYMENT,
        model=stack.registry.model("rec"),
        version=STABLE,
        environment="staging",
        controller=ControllerSettings(
            check_interval_seconds=1,
            evaluation_window_seconds=4,
            failure_threshold=1,
            min_samples=20,
            no_data_bound_seconds=120,
            actuation_bound_seconds=2,
        ),
    )
    CanaryDeployment(
        engine,
        "canary",
        new_model=CANARY,
        traffic_percentage=20,
        ramp_up_schedule=[(20, "3s"), (50, "1h")],
        success_criteria={"error_rate": "< 1%"},
    )
    SafetyNet(
        engine,
        "safety",
        fallback_model=STABLE,
        triggers={"error_rate > 5%": "immediate_rollback"},
    )
    app.synth()
    return read_synthesized(outdir).stack("cluster")


def status(api: FakeApiServer) -> tuple[str, DeploymentStatus] | None:
    """The status ConfigMap's resourceVersion and document, None before the first write."""
    stored = api.get("configmaps", NAMESPACE, status_configmap_name(DEPLOYMENT))
    if stored is None:
        return None
    document = DeploymentStatus.model_validate_json(stored["data"][STATUS_KEY])
    return stored["metadata"]["resourceVersion"], document


def wait_for(
    api: FakeApiServer,
    done: Callable[[DeploymentStatus], bool],
    versions: list[str],
    timeout: float,
) -> DeploymentStatus:
    """Polls the status ConfigMap until `done`; every resourceVersion seen goes to `versions`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(api)
        if current is not None:
            if not versions or versions[-1] != current[0]:
                versions.append(current[0])
            if done(current[1]):
                return current[1]
        time.sleep(0.05)
    raise AssertionError(f"not reached in {timeout} s; status: {status(api)}")


def call(url: str, *, token: str | None = None, body: Any = None, method: str = "GET") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def traffic(gateways: list[str], stop: threading.Event) -> None:
    """Predict requests, alternating between the gateway replicas, until `stop`."""
    body = json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]}).encode()
    n = 0
    while not stop.is_set():
        n += 1
        request = urllib.request.Request(
            f"{gateways[n % len(gateways)]}/v1/models/{DEPLOYMENT}:predict",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
        time.sleep(0.01)


@dataclass
class Cluster:
    """The stack's workloads on loopback (see `cluster.py`), for one test."""

    api: RacedApiServer
    group: ProcessGroup
    endpoints: dict[str, str]
    """Model server URL by version id."""
    replicas: list[tuple[str, str]]
    """Each gateway replica's (public URL, admin URL)."""
    controller_argv: list[str]
    """The controller Deployment's args on loopback, but for `--port`: CONTROLLER_PORT."""
    token_file: Path
    admin_token: str
    logs: Path

    def start_controller(self, identity: str) -> str:
        """Runs the manifest's controller as the pod `identity`; its API's URL once ready."""
        port = free_port("127.0.0.1")
        argv = [str(port) if arg == str(CONTROLLER_PORT) else arg for arg in self.controller_argv]
        self.group.start(
            ServiceSpec(
                name=identity,
                argv=[*TFPROD, *argv, "--kubernetes-api", self.api.url,
                      "--kubernetes-token-file", str(self.token_file)],
                ready_url=f"http://127.0.0.1:{port}/healthz",
                env={"POD_NAME": identity},  # a pod's name, its default --identity
                log=self.logs / f"{identity}.log",
            )
        )  # fmt: skip
        return f"http://127.0.0.1:{port}"

    def log(self, identity: str) -> str:
        return (self.logs / f"{identity}.log").read_text(encoding="utf-8")

    def holder(self) -> str | None:
        lease = self.api.get("leases", NAMESPACE, LEASE)
        holder: str | None = None if lease is None else lease["spec"].get("holderIdentity")
        return holder

    def detail(self, controller: str, at_least: int) -> Any:
        """`GET /v1/deployments/{d}` once it shows generation `at_least` (the API shows what
        the loop last wrote, once the write's thread has returned)."""
        url = f"{controller}/v1/deployments/{DEPLOYMENT}"
        deadline = time.monotonic() + 10
        detail = call(url, token=self.admin_token)
        while detail["generation"] < at_least and time.monotonic() < deadline:
            time.sleep(0.1)
            detail = call(url, token=self.admin_token)
        return detail

    def served(self) -> list[Any]:
        """Each gateway replica's state of the deployment."""
        return [
            call(f"{admin}/admin/v1/state", token=self.admin_token)["models"][DEPLOYMENT]
            for _, admin in self.replicas
        ]


@contextmanager
def cluster(tmp_path: Path, apiserver: RacedApiServer) -> Iterator[Cluster]:
    """Synthesizes the stack and runs its model servers, two gateway replicas and Prometheus
    with the traffic of `traffic`; the controllers are started by the test."""
    registry = (tmp_path / "registry").as_uri()
    store = Registry.open(registry)
    for seed, version in ((1, STABLE), (2, CANARY)):
        exported = export_tiny_classifier(tmp_path / "export" / version, seed=seed)
        store.register(exported, name="rec", version=version)
    stack = synthesize(tmp_path / "cdktf.out", registry)
    controller, gateway = container(stack, "tfprod-controller"), container(stack, "tfprod-gateway")

    # The pods' filesystems under `root`: the policy and endpoints ConfigMaps, the Secrets.
    root = tmp_path / "pod"
    policy_dir = f"{POLICY_MOUNT_DIR}/{DEPLOYMENT}"
    assert mount_paths(controller) == [policy_dir, ADMIN_TOKEN_FILE.rsplit("/", 1)[0]]
    assert policy_dir in mount_paths(gateway)
    policy_text = config_map_data(stack, configmap_name(DEPLOYMENT))[CONFIGMAP_KEY]
    under(root, policy_dir).mkdir(parents=True)
    (under(root, policy_dir) / CONFIGMAP_KEY).write_text(policy_text, encoding="utf-8")
    declared = json.loads(
        config_map_data(stack, endpoints_configmap_name(DEPLOYMENT))[ENDPOINTS_KEY]
    )
    assert sorted(declared) == [STABLE, CANARY]
    for path, secret in ((ADMIN_TOKEN_FILE, "admin-" + "a" * 40), (FEEDBACK_KEY_FILE, "k" * 40)):
        under(root, path).parent.mkdir(parents=True, exist_ok=True)
        under(root, path).write_text(secret, encoding="utf-8")
    tokens = tmp_path / "service-account"
    tokens.mkdir()
    (tokens / "controller").write_text(CONTROLLER_TOKEN, encoding="utf-8")
    (tokens / "gateway").write_text(GATEWAY_TOKEN, encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()

    with ProcessGroup() as group:
        endpoints = {}
        for version in declared:  # the model server Services, on loopback
            base = tmp_path / "models" / version
            store.pull("rec", version, base)
            port = free_port("127.0.0.1")
            endpoints[version] = f"http://127.0.0.1:{port}"
            group.start(
                ServiceSpec(
                    name=version,
                    argv=[*TFPROD, "serve", "--model_name", "rec", "--model_base_path",
                          str(base / "rec"), "--host", "127.0.0.1", "--rest_api_port", str(port),
                          "--port", "0", "--enable_fault_injection"],
                    ready_url=f"{endpoints[version]}/v1/models/rec",
                    log=logs / f"{version}.log",
                )
            )  # fmt: skip
        write_json(under(root, policy_dir) / ENDPOINTS_KEY, endpoints)

        replicas: list[tuple[str, str]] = []  # (public URL, admin URL)
        for replica in ("a", "b"):
            public, admin = free_port("127.0.0.1"), free_port("127.0.0.1")
            argv = loopback_args(
                gateway["args"],
                {
                    POLICY_MOUNT_DIR: str(under(root, POLICY_MOUNT_DIR)),
                    ADMIN_TOKEN_FILE: str(under(root, ADMIN_TOKEN_FILE)),
                    FEEDBACK_KEY_FILE: str(under(root, FEEDBACK_KEY_FILE)),
                    "0.0.0.0": "127.0.0.1",
                    # the kubelet expands $(POD_IP) from the downward API; on loopback it is:
                    f"$({POD_IP_VARIABLE})": "127.0.0.1",
                    str(GATEWAY_PORT): str(public),
                    str(GATEWAY_ADMIN_PORT): str(admin),
                },
            )
            group.start(
                ServiceSpec(
                    name=f"gateway-{replica}",
                    argv=[*TFPROD, *argv, "--kubernetes-api", apiserver.url,
                          "--kubernetes-token-file", str(tokens / "gateway")],
                    ready_url=f"http://127.0.0.1:{admin}/metrics",
                    log=logs / f"gateway-{replica}.log",
                )
            )  # fmt: skip
            replicas.append((f"http://127.0.0.1:{public}", f"http://127.0.0.1:{admin}"))

        with prometheus_server(
            tmp_path / "prometheus",
            {"tfprod-gateway": [admin.removeprefix("http://") for _, admin in replicas]},
            labels={"namespace": NAMESPACE},
        ) as prometheus:
            argv = loopback_args(
                controller["args"],
                {
                    POLICY_MOUNT_DIR: str(under(root, POLICY_MOUNT_DIR)),
                    ADMIN_TOKEN_FILE: str(under(root, ADMIN_TOKEN_FILE)),
                    PROMETHEUS_URL: prometheus,
                    "0.0.0.0": "127.0.0.1",
                },
            )
            assert argv[:1] == ["controller"] and argv[argv.index("--namespace") + 1] == NAMESPACE
            assert argv[argv.index("--port") + 1] == str(CONTROLLER_PORT)
            stop = threading.Event()
            driver = threading.Thread(
                target=traffic, args=([public for public, _ in replicas], stop), daemon=True
            )
            driver.start()
            try:
                yield Cluster(
                    api=apiserver,
                    group=group,
                    endpoints=endpoints,
                    replicas=replicas,
                    controller_argv=argv,
                    token_file=tokens / "controller",
                    admin_token=under(root, ADMIN_TOKEN_FILE).read_text(encoding="utf-8"),
                    logs=logs,
                )
            finally:
                stop.set()
                driver.join()


def rolled_back(current: DeploymentStatus) -> bool:
    rollback = current.rollout.rollback
    return current.rollout.phase == "rolled_back" and rollback is not None and rollback.committed


def check_rolled_back(final: DeploymentStatus, served: list[Any]) -> None:
    assert final.weights == {STABLE: 100.0, CANARY: 0.0}
    assert final.rollout.rollback is not None
    assert final.rollout.rollback.versions == (CANARY,)
    cause = final.rollout.rollback.cause
    # Shown past 5% by the sequential test, the 4 s window past it at one look (F = 1), or
    # the canary's own criterion.
    assert cause.startswith(
        (
            f"error_rate > 5% on {CANARY} (immediate_rollback): ",
            f"error_rate > 5% on {CANARY} for 1 looks (immediate_rollback)",
            "canary criterion error_rate < 1% failed",
        )
    ), cause
    generation = final.rollout.rollback.generation
    assert generation is not None
    for replica in served:  # both replicas serve the rollback, read from the ConfigMap
        assert replica["generation"] >= generation
        assert replica["weights"] == {STABLE: 100.0, CANARY: 0.0}


def test_the_manifests_controller_ramps_and_rolls_back_through_the_status_configmap(
    tmp_path: Path, apiserver: RacedApiServer
) -> None:
    versions: list[str] = []
    with cluster(tmp_path, apiserver) as running:
        controller = running.start_controller("tfprod-controller-0")
        stepped = wait_for(apiserver, lambda s: s.rollout.step_index == 1, versions, 120)
        apiserver.race.set()  # the controller's next write is raced by another writer
        faults = {"error_share": 0.1}
        call(f"{running.endpoints[CANARY]}/admin/v1/faults", body=faults, method="PUT")
        final = wait_for(apiserver, rolled_back, versions, 120)
        detail = running.detail(controller, final.generation)
        served = running.served()
        held = running.holder()
    log = running.log("tfprod-controller-0")

    assert stepped.weights == {STABLE: 50.0, CANARY: 50.0}
    assert [r.action for r in final.rollout.decisions][:3] == ["start", "progress", "step"]
    check_rolled_back(final, served)
    assert final.writer == "controller tfprod-controller-0"
    assert detail["phase"] == "rolled_back"
    assert detail["generation"] >= final.generation  # later checks write their windows
    # resourceVersions only grow; the raced write was refused with 409 and applied again.
    assert [int(v) for v in versions] == sorted(int(v) for v in versions)
    assert apiserver.counts["Conflict"] >= 1
    stored = apiserver.get("configmaps", NAMESPACE, status_configmap_name(DEPLOYMENT))
    assert stored is not None
    assert stored["metadata"]["annotations"] == {"example.com/touched": "yes"}
    assert f"tfprod controller: tfprod-controller-0 leads lease {LEASE}" in log.splitlines()
    assert "successfully acquired lease" not in log  # not one line per renewal
    assert held == "tfprod-controller-0"
    assert running.holder() is None  # stopped by SIGTERM, it handed the Lease back


def test_a_follower_takes_the_lease_from_a_killed_leader_and_rolls_back_from_the_configmap(
    tmp_path: Path, apiserver: RacedApiServer
) -> None:
    versions: list[str] = []
    with cluster(tmp_path, apiserver) as running:
        running.start_controller("controller-a")
        wait_for(apiserver, lambda s: s.writer == "controller controller-a", versions, 120)
        follower = running.start_controller("controller-b")
        stepped = wait_for(apiserver, lambda s: s.rollout.step_index == 1, versions, 120)
        # The leader logs the step after writing it: let it, before it is killed.
        deadline = time.monotonic() + 30
        while "to 50% (step 2 of 2)" not in running.log("controller-a"):
            if time.monotonic() > deadline:
                pytest.fail(f"controller-a never logged its step: {running.log('controller-a')}")
            time.sleep(0.1)
        (leader,) = [state for state in running.group.states() if state.name == "controller-a"]
        os.kill(leader.pid, signal.SIGKILL)  # no release: controller-b waits out the Lease
        deadline = time.monotonic() + 60
        while running.holder() != "controller-b" and time.monotonic() < deadline:
            time.sleep(0.2)
        faults = {"error_share": 0.1}
        call(f"{running.endpoints[CANARY]}/admin/v1/faults", body=faults, method="PUT")
        final = wait_for(apiserver, rolled_back, versions, 120)
        detail = running.detail(follower, final.generation)
        served = running.served()
        held = running.holder()
    a, b = running.log("controller-a"), running.log("controller-b")

    assert held == "controller-b"
    assert stepped.writer == "controller controller-a"
    check_rolled_back(final, served)
    assert final.writer == "controller controller-b"
    assert detail["phase"] == "rolled_back"
    # controller-b resumed from the ConfigMap: nothing restarted, no step repeated.
    actions = [r.action for r in final.rollout.decisions]
    assert actions[:3] == ["start", "progress", "step"]
    assert (actions.count("start"), actions.count("step")) == (1, 1)
    assert final.rollout.decisions[: len(stepped.rollout.decisions)] == stepped.rollout.decisions
    # Only the leader of the moment acted.
    assert "to 50% (step 2 of 2)" in a and "to 50% (step 2 of 2)" not in b
    assert "rollback:" in b and "rollback:" not in a
    assert f"tfprod controller: controller-b leads lease {LEASE}" in b.splitlines()
