"""Real processes for gateway tests: `tfprod serve` and `tfprod gateway`, on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.services import free_port, skip_or_fail

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


class Process:
    """A child process serving HTTP at `url`, with its output in `log`."""

    def __init__(self, argv: list[str], url: str, ready_path: str, log: Path) -> None:
        self.url = url
        self.log = log
        with log.open("ab") as output:
            self.child = subprocess.Popen(argv, env=ENV, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.child.poll() is not None:
                skip_or_fail(f"{argv[3]} exited with {self.child.returncode}: {log.read_text()}")
            try:
                httpx.get(f"{url}{ready_path}", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    skip_or_fail(f"{url} did not come up: {log.read_text()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
            try:
                self.child.wait(30)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


def model_server(base_path: Path, model: str, log: Path) -> Process:
    """`tfprod serve` for the versions under `base_path`."""
    port = free_port()
    return Process(
        [sys.executable, "-m", "tfprod", "serve", "--model_name", model,
         "--model_base_path", str(base_path), "--host", "127.0.0.1",
         "--rest_api_port", str(port), "--port", "0"],
        f"http://127.0.0.1:{port}", f"/v1/models/{model}", log,
    )  # fmt: skip


def gateway(*flags: str, log: Path) -> Process:
    """`tfprod gateway` with `flags` (besides host and port)."""
    port = free_port()
    return Process(
        [sys.executable, "-m", "tfprod", "gateway", *flags, "--host", "127.0.0.1",
         "--port", str(port), "--drain-seconds", "1"],
        f"http://127.0.0.1:{port}", "/metrics", log,
    )  # fmt: skip
