import sys
from pathlib import Path

import pytest

from tests.services import free_port
from tfprod.runtime.local.processes import ProcessGroup, ServiceSpec, StartError


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
