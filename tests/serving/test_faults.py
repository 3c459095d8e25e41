"""Fault injection in `tfprod serve`: counted errors, latency and exits, loopback only."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services import free_port
from tests.serving.conftest import Models
from tests.serving.test_cli import run_serve
from tfprod.runtime.serving import INJECTED_EXIT_CODE, FaultPlan, FaultPlanError, ModelServerHandle
from tfprod.runtime.serving.faults import FaultInjector

ROW = {"instances": [[0.5, -1.0, 2.0, 0.25]]}
INJECTED = {"error": "Injected fault (tfprod serve fault injection)"}


def errors_in(injector: FaultInjector, requests: int) -> list[int]:
    return [n for n in range(1, requests + 1) if injector.next_request().error]


def test_a_share_of_a_tenth_fails_exactly_every_tenth_request() -> None:
    failed = errors_in(FaultInjector(FaultPlan(error_share=0.1)), 1000)
    assert len(failed) == 100
    assert failed[:3] == [10, 20, 30]


def test_a_share_that_is_not_a_unit_fraction_is_counted_exactly() -> None:
    assert len(errors_in(FaultInjector(FaultPlan(error_share=0.57)), 100)) == 57
    assert errors_in(FaultInjector(FaultPlan(error_share=0.0)), 50) == []
    assert len(errors_in(FaultInjector(FaultPlan(error_share=1.0)), 50)) == 50


def test_a_new_plan_starts_its_schedule_again() -> None:
    injector = FaultInjector(FaultPlan(error_share=0.5))
    assert errors_in(injector, 3) == [2]
    injector.set_plan(FaultPlan(error_share=0.5))
    assert errors_in(injector, 2) == [2]
    assert injector.counted == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"error_share": 1.5}, "error_share: must be a number in [0, 1], got 1.5"),
        ({"latency_ms": -1}, "latency_ms: must be a number in [0, 60000], got -1"),
        (
            {"exit_after_requests": 2.5},
            "exit_after_requests: must be a non-negative integer, got 2.5",
        ),
        (
            {"error_rate": 0.1},
            "unknown field 'error_rate'; allowed: error_share, exit_after_requests, latency_ms",
        ),
        ([0.1], "a fault plan is a JSON object with fields"
                " ['error_share', 'exit_after_requests', 'latency_ms']"),
    ],
)  # fmt: skip
def test_a_bad_plan_names_the_field_and_the_value(document: object, message: str) -> None:
    with pytest.raises(FaultPlanError) as error:
        FaultPlan.from_json(document)
    assert str(error.value) == message


@pytest.mark.slow
def test_without_the_flag_there_are_no_fault_endpoints(server: ModelServerHandle) -> None:
    url = server.endpoints.rest_url
    assert httpx.get(f"{url}/metrics").status_code == 404
    assert httpx.put(f"{url}/admin/v1/faults", content=b"{}").status_code == 404


@pytest.fixture
def faulty_server(models: Models, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `tfprod serve` failing a quarter of inference requests."""
    port = free_port()
    with (
        (tmp_path / "stderr").open("w") as log,
        run_serve(
            "--model_name=tiny", f"--model_base_path={models.tiny}", "--port=0",
            f"--rest_api_port={port}", "--fault_error_share=0.25", stderr=log,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        assert process.stdout.readline() == f"serving REST on http://127.0.0.1:{port}\n"
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            if process.poll() is None:
                process.kill()


def metric_values(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics").text
    return {
        sample.name + "".join(f"{{{k}={v}}}" for k, v in sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.slow
def test_a_flagged_share_fails_every_fourth_request_and_metrics_show_it(
    faulty_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = faulty_server
    predict = f"{url}/v1/models/tiny:predict"
    answers = [httpx.post(predict, json=ROW) for _ in range(12)]
    assert [n for n, answer in enumerate(answers, 1) if answer.status_code != 200] == [4, 8, 12]
    assert {answer.status_code for answer in answers[3::4]} == {500}
    assert all(answer.json() == INJECTED for answer in answers[3::4])
    assert httpx.get(f"{url}/v1/models/tiny").status_code == 200  # status is never failed
    assert metric_values(url) == {
        "tfprod_serving_fault_requests_total": 12.0,
        "tfprod_serving_faults_injected_total{kind=error}": 3.0,
        "tfprod_serving_faults_injected_total{kind=latency}": 0.0,
        "tfprod_serving_fault_error_share": 0.25,
        "tfprod_serving_fault_latency_seconds": 0.0,
        "tfprod_serving_fault_exit_after_requests": 0.0,
    }


@pytest.mark.slow
def test_the_admin_call_replaces_the_plan_and_exits_after_the_planned_requests(
    faulty_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = faulty_server
    faults = f"{url}/admin/v1/faults"
    refused = httpx.put(faults, content=b'{"error_share": 0.1, "latency": 5}')
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "unknown field 'latency'; allowed: error_share, exit_after_requests, latency_ms"},
    )
    plan = {"error_share": 0, "latency_ms": 20, "exit_after_requests": 3}
    assert httpx.put(faults, content=json.dumps(plan).encode()).json() == {
        "plan": plan,
        "counted": 0,
    }
    assert metric_values(url)["tfprod_serving_fault_latency_seconds"] == 0.02
    predict = f"{url}/v1/models/tiny:predict"
    assert [httpx.post(predict, json=ROW).status_code for _ in range(3)] == [200, 200, 200]
    assert process.wait(timeout=30) == INJECTED_EXIT_CODE
    with pytest.raises(httpx.ConnectError):
        httpx.post(predict, json=ROW)


@pytest.mark.slow
def test_the_exit_call_answers_then_ends_the_server(models: Models, tmp_path: Path) -> None:
    port = free_port()
    with (
        (tmp_path / "stderr").open("w") as log,
        run_serve(
            "--model_name=tiny", f"--model_base_path={models.tiny}", "--port=0",
            f"--rest_api_port={port}", "--enable_fault_injection", stderr=log,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{url}/v1/models/tiny:predict", json=ROW).status_code == 200
        answer = httpx.post(f"{url}/admin/v1/faults/exit")
        assert (answer.status_code, answer.json()) == (202, {"exiting": True, "exit_code": 70})
        assert process.wait(timeout=30) == INJECTED_EXIT_CODE
    log_lines = (tmp_path / "stderr").read_text().splitlines()
    assert log_lines[-1] == "tfprod serve: injected fault: exiting now, as asked"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ("--host=0.0.0.0", "--fault_error_share=0.1"),
            "tfprod serve: error: fault injection needs a loopback --host"
            " (127.0.0.1, ::1 or localhost), got '0.0.0.0'\n",
        ),
        (
            ("--host=10.1.2.3", "--enable_fault_injection"),
            "tfprod serve: error: fault injection needs a loopback --host"
            " (127.0.0.1, ::1 or localhost), got '10.1.2.3'\n",
        ),
        (
            ("--fault_error_share=2",),
            "tfprod serve: error: --fault_error_share: must be a number in [0, 1], got 2.0\n",
        ),
    ],
)
def test_fault_flags_off_loopback_or_out_of_range_exit_2(
    flags: tuple[str, ...], message: str
) -> None:
    with run_serve("--model_base_path=/nonexistent", "--rest_api_port=8501", *flags) as process:
        _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (2, message)
