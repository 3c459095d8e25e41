"""`tfprod up` end to end: real registry, real model servers, real gateway, real processes.

The synthesized output is written by hand here (manifest + policy file, as synthesis lays them
out), so these tests exercise the runtime side alone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.toy_models import export_tiny_classifier
from tfprod.policy import Policy, artifact_uri, policy_file_name, policy_json, read_status
from tfprod.runtime.local.lock import workdir_lock
from tfprod.runtime.local.synthesized import SynthesizedError, stack_policies
from tfprod.runtime.registry import Registry


def write_synthesized(outdir: Path, stacks: dict[str, list[Policy]]) -> None:
    entries = {}
    for stack, policies in stacks.items():
        directory = outdir / "stacks" / stack
        directory.mkdir(parents=True)
        (directory / "cdk.tf.json").write_text("{}\n")
        for policy in policies:
            (directory / policy_file_name(policy.name)).write_text(policy_json(policy))
        entries[stack] = {
            "name": stack,
            "workingDirectory": f"stacks/{stack}",
            "synthesizedStackPath": f"stacks/{stack}/cdk.tf.json",
        }
    (outdir / "manifest.json").write_text(json.dumps({"version": "0.24.0", "stacks": entries}))


def rec_policy(registry: str, *, canary_percent: float = 50) -> Policy:
    return Policy.model_validate(
        {
            "name": "recommendation-engine",
            "environment": "staging",
            "model": "rec",
            "versions": [
                {"id": "v1", "artifact": artifact_uri(registry, "rec", "v1"), "role": "stable"},
                {"id": "v2", "artifact": artifact_uri(registry, "rec", "v2"), "role": "canary"},
            ],
            "traffic": {
                "weights": {"v1": 100 - canary_percent, "v2": canary_percent},
                "sticky": {"source": "header", "name": "X-User-Id"},
            },
        }
    )


def test_finds_the_only_stack_with_deployments(tmp_path: Path) -> None:
    policy = rec_policy("file:///registry")
    write_synthesized(tmp_path, {"rec": [policy], "network": []})
    assert stack_policies(tmp_path, None) == [policy]


def test_asks_for_a_stack_name_when_several_have_deployments(tmp_path: Path) -> None:
    policy = rec_policy("file:///registry")
    write_synthesized(tmp_path, {"rec-aws": [policy], "rec-gcp": [policy]})
    with pytest.raises(SynthesizedError) as error:
        stack_policies(tmp_path, None)
    assert str(error.value) == (
        f"name the stack to run; stacks with model deployments in {tmp_path}: rec-aws, rec-gcp"
    )


def test_names_the_stacks_there_are_when_the_stack_is_unknown(tmp_path: Path) -> None:
    write_synthesized(tmp_path, {"rec": [rec_policy("file:///registry")]})
    with pytest.raises(SynthesizedError) as error:
        stack_policies(tmp_path, "recs")
    assert str(error.value) == f"no stack 'recs' in {tmp_path}; stacks: rec"


def test_says_to_synthesize_first_when_there_is_no_manifest(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tfprod", "up", "--outdir", str(tmp_path / "cdktf.out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"tfprod up: error: {tmp_path / 'cdktf.out'}: no such directory; synthesize first"
        " (e.g. python examples/app.py)\n"
    )


@pytest.fixture(scope="module")
def registry_with_two_versions(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("up")
    uri = (root / "registry").as_uri()
    registry = Registry.open(uri)
    for seed, version in ((1, "v1"), (2, "v2")):
        registry.register(
            export_tiny_classifier(root / version, seed=seed), name="rec", version=version
        )
    return uri


@pytest.fixture
def platform(
    registry_with_two_versions: str, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    outdir = tmp_path / "cdktf.out"
    write_synthesized(outdir, {"rec": [rec_policy(registry_with_two_versions)]})
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(tmp_path / "work"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert first_line.startswith("gateway: http://127.0.0.1:"), first_line
    try:
        yield first_line.split()[1], process
    finally:
        stop_up(process)
        process.stdout.close()


def stop_up(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a person would, so `tfprod up` stops its children; SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def predict(gateway: str, user: str, *, path: str = "") -> tuple[str, list[list[float]]]:
    """The variant that answered and its predictions; `path` is e.g. "labels/v2"."""
    request = urllib.request.Request(
        f"{gateway}/v1/models/recommendation-engine{'/' + path if path else ''}:predict",
        data=json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]}).encode(),
        headers={"Content-Type": "application/json", "X-User-Id": user},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Tfprod-Variant"], json.loads(response.read())["predictions"]


@pytest.mark.slow
def test_serves_both_versions_through_the_gateway_and_stops_everything_on_ctrl_c(
    platform: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    gateway, process = platform
    answers = {predict(gateway, f"user-{n}")[0] for n in range(40)}
    assert answers == {"v1", "v2"}
    for user in ("user-1", "user-2", "user-3"):
        assert len({predict(gateway, user)[0] for _ in range(5)}) == 1
    server_logs = sorted(path.name for path in (tmp_path / "work" / "logs").iterdir())
    assert server_logs == [
        "controller.log",
        "gateway.log",
        "recommendation-engine-v1.log",
        "recommendation-engine-v2.log",
    ]
    for secret in ("admin-token", "feedback-key"):
        assert (tmp_path / "work" / secret).stat().st_mode & 0o777 == 0o600

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{gateway}/metrics", timeout=2)


def run_up(outdir: Path, workdir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(workdir), *flags,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip


def test_names_the_field_of_an_invalid_policy_file_and_exits_2(tmp_path: Path) -> None:
    write_synthesized(tmp_path / "out", {"rec": [rec_policy("file:///registry")]})
    policy_file = tmp_path / "out" / "stacks" / "rec" / "recommendation-engine.policy.json"
    document = json.loads(policy_file.read_text())
    document["traffic"]["weights"] = {"v1": 70, "v2": 20}
    policy_file.write_text(json.dumps(document))
    result = run_up(tmp_path / "out", tmp_path / "work")
    assert (result.returncode, result.stderr) == (
        2,
        f"tfprod up: error: {policy_file}: traffic.weights: traffic weights"
        " must sum to 100 (percent); got 90 (v1: 70, v2: 20)\n",
    )


def test_a_registry_nothing_was_pushed_to_stops_up_with_one_line_and_exit_1(
    tmp_path: Path,
) -> None:
    registry = (tmp_path / "empty-registry").as_uri()
    write_synthesized(tmp_path / "out", {"rec": [rec_policy(registry)]})
    result = run_up(tmp_path / "out", tmp_path / "work")
    assert (result.returncode, result.stderr) == (
        1,
        f"tfprod up: no registry at {registry}: nothing was ever pushed there; check the URI\n",
    )


def test_a_busy_gateway_port_fails_first_and_names_the_port(tmp_path: Path) -> None:
    # The registry is empty: had anything been pulled or started first, that would fail.
    write_synthesized(tmp_path / "out", {"rec": [rec_policy((tmp_path / "none").as_uri())]})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_up(tmp_path / "out", tmp_path / "work", "--port", str(port))
    assert (result.returncode, result.stderr) == (
        2,
        f"tfprod up: error: --port {port}: 127.0.0.1:{port} is in use (Address already in use);"
        " stop what listens there or give another --port (0 picks a free one)\n",
    )
    assert not (tmp_path / "work" / "logs").exists()


def test_a_second_up_on_a_workdir_in_use_refuses_and_names_the_holder(tmp_path: Path) -> None:
    write_synthesized(tmp_path / "out", {"rec": [rec_policy((tmp_path / "none").as_uri())]})
    with workdir_lock(tmp_path / "work"):
        result = run_up(tmp_path / "out", tmp_path / "work")
    assert (result.returncode, result.stderr) == (
        2,
        f"tfprod up: error: work directory {tmp_path / 'work'} is in use by another local"
        f" platform (pid {os.getpid()}); stop it or give another --workdir\n",
    )


def with_safety_net(policy: Policy) -> Policy:
    document = json.loads(policy_json(policy))
    document["safety"] = {
        "fallback_version": "v1",
        "triggers": {"error_rate > 5%": "immediate_rollback"},
    }
    return Policy.model_validate(document)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_killed_canary_is_rolled_back_with_no_failed_request_and_its_server_comes_back(
    registry_with_two_versions: str, tmp_path: Path
) -> None:
    outdir = tmp_path / "cdktf.out"
    write_synthesized(outdir, {"rec": [with_safety_net(rec_policy(registry_with_two_versions))]})
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(tmp_path / "work"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        gateway = process.stdout.readline().split()[1]
        process.stdout.readline()  # admin token file
        processes_url = process.stdout.readline().split()[1]
        (canary,) = [p for p in get_json(processes_url)["processes"] if p["name"].endswith("/v2")]
        assert {predict(gateway, f"user-{n}")[0] for n in range(40)} == {"v1", "v2"}

        os.kill(canary["pid"], signal.SIGKILL)
        # The breaker sends the dead version's share to the fallback until the controller's
        # safety net moves that share for good: no request fails meanwhile.
        answered: Counter[str] = Counter()  # predict() raises on any answer but 200
        status_file = tmp_path / "work" / "status" / "recommendation-engine-status.json"
        for _ in range(600):
            status = read_status(status_file)
            if status is not None and status.weights.get("v2") == 0:
                break
            answered.update(predict(gateway, f"user-{n}")[0] for n in range(20))
        assert status is not None and status.weights == {"v1": 100.0, "v2": 0.0}
        assert set(answered) <= {"v1", "v1-fallback"}
        after = Counter(predict(gateway, f"user-{n}")[0] for n in range(200))
        assert set(after) <= {"v1", "v1-fallback"}  # every request answered, none failed
        assert sum(after.values()) == 200

        state = canary
        for _ in range(300):  # the restart is due 1 s after the kill; loading takes longer
            (state,) = [
                p for p in get_json(processes_url)["processes"] if p["name"] == canary["name"]
            ]
            if state["running"] and state["restarts"]:
                break
            time.sleep(0.1)
        assert (state["restarts"], state["last_exit_code"]) == (1, -9)
        assert state["pid"] != canary["pid"]
        served = ""
        for _ in range(600):  # until the breaker's trial request reaches the restarted server
            served = predict(gateway, "user-0", path="labels/v2")[0]
            if served == "v2":
                break
            time.sleep(0.1)
        assert served == "v2"  # rolled back, yet back and answering when asked by name
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        log = process.stderr.read()
    finally:
        stop_up(process)
        process.stdout.close()
        process.stderr.close()
    assert "tfprod up: recommendation-engine/v2 exited with code -9; restarting in 1 s\n" in log
    assert f"tfprod up: restarted recommendation-engine/v2 (restart 1, pid {state['pid']})\n" in log


@pytest.mark.slow
def test_a_killed_gateway_is_restarted_on_its_port_and_serves_again(
    registry_with_two_versions: str, tmp_path: Path
) -> None:
    outdir = tmp_path / "cdktf.out"
    write_synthesized(outdir, {"rec": [rec_policy(registry_with_two_versions)]})
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(tmp_path / "work"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        gateway = process.stdout.readline().split()[1]
        process.stdout.readline()  # admin token file
        processes_url = process.stdout.readline().split()[1]
        (before,) = [p for p in get_json(processes_url)["processes"] if p["name"] == "gateway"]
        os.kill(before["pid"], signal.SIGKILL)
        variants: set[str] = set()
        for _ in range(300):
            try:
                variants = {predict(gateway, f"user-{n}")[0] for n in range(40)}
                break
            except OSError:  # refused until the restarted gateway listens
                time.sleep(0.1)
        assert variants == {"v1", "v2"}
        (after,) = [p for p in get_json(processes_url)["processes"] if p["name"] == "gateway"]
        assert (after["restarts"], after["last_exit_code"], after["running"]) == (1, -9, True)
        others = [p for p in get_json(processes_url)["processes"] if p["name"] != "gateway"]
        models = [p for p in others if p["name"] != "controller"]
        assert [p["restarts"] for p in models] == [0, 0]
        assert [p["restarts"] for p in others if p["name"] == "controller"] == [0]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        stop_up(process)
        process.stdout.close()


@pytest.mark.slow
def test_a_weight_change_is_kept_in_the_status_file_the_gateway_follows(
    platform: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    gateway, _process = platform
    token = (tmp_path / "work" / "admin-token").read_text(encoding="utf-8")
    request = urllib.request.Request(
        f"{gateway}/admin/v1/models/recommendation-engine/weights",
        data=json.dumps({"weights": {"v1": 0, "v2": 100}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["generation"] == 1
    status = read_status(tmp_path / "work" / "status" / "recommendation-engine-status.json")
    assert status is not None
    assert (status.generation, status.weights) == (1, {"v1": 0.0, "v2": 100.0})
    assert {predict(gateway, f"user-{n}")[0] for n in range(20)} == {"v2"}
