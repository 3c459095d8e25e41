import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tfprod.runtime.local import ProcessState
from tfprod.runtime.local.report import render_metrics, serve_report

STATES = (
    ProcessState(name="rec/v1", pid=11, running=True, restarts=0, last_exit_code=None),
    ProcessState(name="rec/v2", pid=12, running=False, restarts=2, last_exit_code=-9),
)


def test_metrics_count_restarts_and_show_what_runs_per_process() -> None:
    samples = {
        (sample.name, sample.labels["process"]): sample.value
        for family in text_string_to_metric_families(render_metrics(STATES))
        for sample in family.samples
    }
    assert samples == {
        ("tfprod_local_process_restarts_total", "rec/v1"): 0.0,
        ("tfprod_local_process_restarts_total", "rec/v2"): 2.0,
        ("tfprod_local_process_running", "rec/v1"): 1.0,
        ("tfprod_local_process_running", "rec/v2"): 0.0,
    }


def test_the_report_serves_processes_and_metrics_on_loopback() -> None:
    with serve_report(lambda: STATES, host="127.0.0.1") as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/v1/processes", timeout=5) as response:
            document = json.loads(response.read())
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            assert response.read().decode() == render_metrics(STATES)
    assert document["processes"][1] == {
        "name": "rec/v2",
        "pid": 12,
        "running": False,
        "restarts": 2,
        "last_exit_code": -9,
    }
