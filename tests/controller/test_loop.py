"""The loop around `decide`, in virtual time, on real status files; and the command line."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.controller.policies import CANARY, STABLE, canary_policy
from tests.controller.simulation import EPOCH
from tfprod.policy import DeploymentStatus, Policy, policy_digest, read_status
from tfprod.runtime.controller import Command, Observation, VersionCounters
from tfprod.runtime.controller.loop import ControllerLoop
from tfprod.runtime.controller.stores import FileStatusStore
from tfprod.runtime.notify import ConsoleNotifier


class Clock:
    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def make_loop(
    tmp_path: Path, policies: dict[str, Policy], clock: Clock, out: io.StringIO
) -> ControllerLoop:
    async def observe(policy: Policy) -> Observation:
        if policy.name == "broken":
            raise RuntimeError("metrics source exploded")
        status = read_status(tmp_path / f"{policy.name}-status.json")
        generation = 0 if status is None else status.generation
        return Observation(
            versions={STABLE: VersionCounters(requests=0), CANARY: VersionCounters(requests=0)},
            replica_generations={"gw": generation},
        )

    return ControllerLoop(
        policies=policies,
        stores={name: FileStatusStore(tmp_path, name) for name in policies},
        observe=observe,
        notifier=ConsoleNotifier(out),
        writer="controller test",
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_tick_writes_the_status_once_with_time_writer_and_digest(tmp_path: Path) -> None:
    policy = canary_policy()
    clock = Clock()
    out = io.StringIO()
    loop = make_loop(tmp_path, {policy.name: policy}, clock, out)
    assert loop.status(policy.name) is None
    asyncio.run(loop.tick(policy.name))
    written = read_status(tmp_path / f"{policy.name}-status.json")
    assert written is not None
    assert (written.generation, written.writer, written.updated_at) == (
        1,
        "controller test",
        EPOCH,
    )
    assert written.policy_digest == policy_digest(policy)
    assert written.rollout.phase == "initializing"
    assert loop.status(policy.name) == written
    assert (
        out.getvalue()
        .split(" ", 1)[1]
        .startswith("INFO default/recommendation-engine rollout_started")
    )


def test_a_failing_deployment_never_stops_the_others_and_commands_are_applied(
    tmp_path: Path,
) -> None:
    good = canary_policy()
    broken = canary_policy(name="broken")
    clock = Clock()
    loop = make_loop(tmp_path, {good.name: good, broken.name: broken}, clock, io.StringIO())
    assert loop.deployments() == ["broken", "recommendation-engine"]

    def paused() -> bool:
        status = read_status(tmp_path / "recommendation-engine-status.json")
        return status is not None and status.rollout.phase == "paused"

    async def run_for(seconds: float) -> None:
        task = asyncio.create_task(loop.run())
        while clock.now < EPOCH + timedelta(seconds=seconds):
            await asyncio.sleep(0)
        loop.submit(good.name, Command(kind="pause", by="tfprod pause (test)"))
        deadline = time.monotonic() + 30  # the status is written in a thread: wait for it
        while time.monotonic() < deadline and not paused():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run_for(5))
    status = read_status(tmp_path / "recommendation-engine-status.json")
    assert status is not None
    assert status.rollout.phase == "paused"
    assert [d.action for d in status.rollout.decisions][-1] == "pause"
    assert read_status(tmp_path / "broken-status.json") is None
    with pytest.raises(KeyError):
        loop.policy("unknown")


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("secret-token\n")
    result = subprocess.run(
        [
            sys.executable, "-m", "tfprod", "controller", "--policies", str(tmp_path),
            "--admin-token-file", str(token), "--gateway", "http://127.0.0.1:1",
            "--status-dir", str(tmp_path / "status"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (
        2,
        f"tfprod controller: error: --policies: no <deployment>/policy.json under {tmp_path}\n",
    )


class CountingStore(FileStatusStore):
    def __init__(self, directory: Path, deployment: str) -> None:
        super().__init__(directory, deployment)
        self.written_at: list[datetime] = []

    def write(self, status: DeploymentStatus) -> None:
        assert status.updated_at is not None
        self.written_at.append(status.updated_at)
        super().write(status)


def test_evidence_alone_is_written_once_per_check_interval_and_a_routing_change_at_once(
    tmp_path: Path,
) -> None:
    policy = canary_policy(triggers={"error_rate > 5%": "immediate_rollback"})
    store = CountingStore(tmp_path, policy.name)
    clock = Clock()
    errors = {CANARY: 0}

    async def observe(_policy: Policy) -> Observation:
        status = store.read()
        elapsed = int((clock.now - EPOCH).total_seconds())
        return Observation(
            versions={
                STABLE: VersionCounters(requests=100 * elapsed),
                CANARY: VersionCounters(requests=100 * elapsed, errors=errors[CANARY]),
            },
            replica_generations={"gw": 0 if status is None else status.generation},
        )

    loop = ControllerLoop(
        policies={policy.name: policy},
        stores={policy.name: store},
        observe=observe,
        notifier=ConsoleNotifier(io.StringIO()),
        clock=clock,
        sleep=clock.sleep,
    )

    async def tick_each_second(seconds: int) -> None:
        for _ in range(seconds):
            await loop.tick(policy.name)
            clock.now += timedelta(seconds=1)

    asyncio.run(tick_each_second(35))
    seconds = [(at - EPOCH).total_seconds() for at in store.written_at]
    # Started at 0 s, first weights served at 1 s; then evidence every 10 s (the default
    # check interval), though the trigger looked every second.
    assert seconds == [0.0, 1.0, 11.0, 21.0, 31.0]
    shown = loop.status(policy.name)
    assert shown is not None and shown.rollout.totals[STABLE].requests == 3400

    errors[CANARY] = 100 * 34  # every canary request of the last second failed
    clock.now += timedelta(seconds=1)
    asyncio.run(tick_each_second(1))
    written = store.read()
    assert written is not None
    assert (store.written_at[-1] - EPOCH).total_seconds() == 36.0
    assert written.weights[CANARY] == 0.0
