import logging
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.services import free_port
from tfprod.runtime.local.processes import ProcessGroup, RestartPolicy, ServiceSpec, StartError


def http_server_spec(name: str, root: Path) -> ServiceSpec:
    port = free_port()
    return ServiceSpec(
        name=name,
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready_url=f"http://127.0.0.1:{port}/",
        log=root / f"{name}.log",
    )


def test_starts_children_and_stops_all_of_them_when_the_block_ends(tmp_path: Path) -> None:
    with ProcessGroup() as group:
        first = group.start(http_server_spec("first", tmp_path))
        second = group.start(http_server_spec("second", tmp_path))
        assert first.process.poll() is None
        assert second.process.poll() is None
    assert first.process.returncode is not None
    assert second.process.returncode is not None
    assert group.services == ()


def test_stops_one_child_by_name_and_keeps_the_others(tmp_path: Path) -> None:
    with ProcessGroup() as group:
        canary = group.start(http_server_spec("canary", tmp_path))
        stable = group.start(http_server_spec("stable", tmp_path))
        group.stop("canary")
        assert canary.process.returncode is not None
        assert stable.process.poll() is None
        assert [service.spec.name for service in group.services] == ["stable"]


def pid_alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie lasts until pid 1 reaps it, which in a
    container it may never do)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.parametrize("started_by", ["start", "restart"])
def test_children_end_when_their_parent_is_killed_without_stopping_them(
    tmp_path: Path, started_by: str
) -> None:
    parent_code = textwrap.dedent(
        f"""
        import sys, time
        from tests.local.test_processes import http_server_spec
        from tfprod.runtime.local.processes import ProcessGroup, RestartPolicy
        from pathlib import Path
        group = ProcessGroup(restart=RestartPolicy(initial_delay_s=0.0))
        child = group.start(http_server_spec("child", Path({str(tmp_path)!r})))
        if {started_by == "restart"}:
            group.supervise_in_background()
            child.process.kill()
            while child.restarts == 0:
                time.sleep(0.05)
        print(child.process.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert pid_alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child)


def test_reports_a_child_that_exits_while_starting(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="broken",
        argv=[sys.executable, "-c", "raise SystemExit(3)"],
        ready_url=f"http://127.0.0.1:{free_port()}/",
    )
    with ProcessGroup() as group, pytest.raises(StartError) as error:
        group.start(spec)
    assert str(error.value) == "broken exited with code 3 while starting"


def test_reports_a_child_that_never_becomes_ready_within_the_timeout() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    spec = ServiceSpec(
        name="silent",
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        ready_url="http://127.0.0.1:9/",
    )
    group = ProcessGroup(
        ready_timeout_s=5.0, probe=lambda _url: False, sleep=sleep, monotonic=lambda: now[0]
    )
    with group, pytest.raises(StartError) as error:
        group.start(spec)
    assert str(error.value) == "silent was not ready at http://127.0.0.1:9/ after 5 s"


def test_backoff_doubles_per_consecutive_exit_up_to_the_cap() -> None:
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()


def test_an_exited_child_is_restarted_after_its_backoff_and_the_others_keep_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    with ProcessGroup(monotonic=clock) as group:
        canary = group.start(http_server_spec("canary", tmp_path))
        stable = group.start(http_server_spec("stable", tmp_path))
        first_pid = canary.process.pid
        kill(canary.process)
        with caplog.at_level(logging.WARNING, logger="tfprod.local"):
            group.supervise()  # notes the exit: restart due in 1 s
            clock.now = 0.9
            group.supervise()
            assert canary.process.pid == first_pid
            clock.now = 1.0
            group.supervise()
        assert canary.process.pid != first_pid
        assert canary.process.poll() is None
        assert stable.process.poll() is None
        assert caplog.messages == [
            "canary exited with code -9; restarting in 1 s",
            f"restarted canary (restart 1, pid {canary.process.pid})",
        ]
        assert [(s.name, s.running, s.restarts, s.last_exit_code) for s in group.states()] == [
            ("canary", True, 1, -9),
            ("stable", True, 0, None),
        ]


def test_consecutive_exits_double_the_wait_and_a_long_run_resets_it(tmp_path: Path) -> None:
    clock = Clock()
    with ProcessGroup(monotonic=clock) as group:
        child = group.start(http_server_spec("child", tmp_path))
        waits = []
        for up_for in (0.5, 0.5, 60.0):
            clock.now += up_for
            kill(child.process)
            group.supervise()
            assert child.restart_at is not None
            waits.append(child.restart_at - clock.now)
            clock.now = child.restart_at
            group.supervise()
        assert waits == [1.0, 2.0, 1.0]
        assert child.restarts == 3


def test_a_child_stopped_by_name_is_not_restarted(tmp_path: Path) -> None:
    clock = Clock()
    with ProcessGroup(monotonic=clock) as group:
        group.start(http_server_spec("canary", tmp_path))
        group.stop("canary")
        clock.now = 100.0
        group.supervise()
        assert group.states() == ()


def test_background_supervision_restarts_a_killed_child(tmp_path: Path) -> None:
    with ProcessGroup(restart=RestartPolicy(initial_delay_s=0.1)) as group:
        child = group.start(http_server_spec("child", tmp_path))
        first_pid = child.process.pid
        group.supervise_in_background()
        kill(child.process)
        for _ in range(100):
            if group.states()[0].restarts == 1 and child.process.poll() is None:
                break
            time.sleep(0.1)
        assert (group.states()[0].restarts, child.process.pid != first_pid) == (1, True)
    assert child.process.returncode is not None
