"""What the local platform reports about its processes, over HTTP on loopback.

- `GET /v1/processes`: `{"processes": [{"name", "pid", "running", "restarts",
  "last_exit_code"}, ...]}` in start order.
- `GET /metrics`: `tfprod_local_process_restarts_total{process}` and
  `tfprod_local_process_running{process}` in Prometheus' text format.
Served on a thread of the supervising process, so it answers while children restart.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tfprod.runtime.gateway.metrics import Counter, Gauge
from tfprod.runtime.local.processes import ProcessState

States = Callable[[], Sequence[ProcessState]]


def render_metrics(states: Sequence[ProcessState]) -> str:
    restarts = Counter(
        "tfprod_local_process_restarts_total",
        "Times the local platform started a process again after it exited.",
        ("process",),
    )
    running = Gauge(
        "tfprod_local_process_running",
        "1 while the process is alive, 0 while it waits for its restart.",
        ("process",),
    )
    for state in states:
        restarts.inc((state.name,), amount=state.restarts)
        running.set((state.name,), float(state.running))
    return "\n".join([*restarts.render(), *running.render()]) + "\n"


def processes_json(states: Sequence[ProcessState]) -> str:
    return json.dumps({"processes": [asdict(state) for state in states]})


@contextmanager
def serve_report(states: States, *, host: str) -> Iterator[str]:
    """Serves the report on a free port of `host` for the `with` block; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            pages = {
                "/metrics": ("text/plain; version=0.0.4; charset=utf-8", render_metrics),
                "/v1/processes": ("application/json", processes_json),
            }
            if self.path not in pages:
                self.send_error(404)
                return
            content_type, render = pages[self.path]
            body = render(states()).encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: scrapes would otherwise fill the terminal."""

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="tfprod-report", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
