"""Start, watch and stop the child processes of the local platform.

`tfprod up` runs each model server, the gateway and the controller as its own process, as a
cluster would run them as pods, so a fault injected into one version touches nothing else.
A `ProcessGroup` owns every child it started: leaving its `with` block (normally, by an
exception, or by Ctrl-C) stops them all, SIGTERM first and SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


class StartError(RuntimeError):
    """A child process exited, or did not become ready, while starting."""


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """One child process of the local platform.

    `ready_url` is polled with GET until it answers 200; the child counts as started then.
    `env` is added to the parent's environment. `log` receives the child's stdout and stderr
    (default: inherited from the parent, which is what a person at a terminal wants).
    """

    name: str
    argv: Sequence[str]
    ready_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    log: Path | None = None


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class ProcessGroup:
    """Children started together and stopped together. Not thread-safe: one owner."""

    def __init__(
        self,
        *,
        ready_timeout_s: float = 60.0,
        stop_grace_s: float = 10.0,
        probe: Callable[[str], bool] = _answers_ok,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ready_timeout_s = ready_timeout_s
        self._stop_grace_s = stop_grace_s
        self._probe = probe
        self._sleep = sleep
        self._monotonic = monotonic
        self._running: list[RunningService] = []

    @property
    def services(self) -> tuple[RunningService, ...]:
        return tuple(self._running)

    def start(self, spec: ServiceSpec) -> RunningService:
        """Starts `spec` and waits until its ready URL answers 200."""
        output = open(spec.log, "ab") if spec.log else None  # noqa: SIM115 - the child owns it
        try:
            process = subprocess.Popen(
                list(spec.argv),
                env={**os.environ, **spec.env},
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                # Ctrl-C reaches the parent only, which then stops children in order.
                start_new_session=True,
            )
        finally:
            if output:
                output.close()
        running = RunningService(spec=spec, process=process)
        self._running.append(running)
        self._wait_ready(running)
        return running

    def _wait_ready(self, running: RunningService) -> None:
        deadline = self._monotonic() + self._ready_timeout_s
        while self._monotonic() < deadline:
            code = running.process.poll()
            if code is not None:
                raise StartError(f"{running.spec.name} exited with code {code} while starting")
            if self._probe(running.spec.ready_url):
                return
            self._sleep(0.1)
        raise StartError(
            f"{running.spec.name} was not ready at {running.spec.ready_url} "
            f"after {self._ready_timeout_s:g} s"
        )

    def stop(self, name: str) -> None:
        """Stops one child (the fault injection of the demo uses this)."""
        for running in self._running:
            if running.spec.name == name:
                self._terminate([running])
                self._running.remove(running)
                return
        raise KeyError(name)

    def stop_all(self) -> None:
        """Stops children in reverse start order: the gateway before the servers behind it."""
        self._terminate(list(reversed(self._running)))
        self._running.clear()

    def _terminate(self, services: Sequence[RunningService]) -> None:
        for running in services:
            if running.process.poll() is None:
                running.process.send_signal(signal.SIGTERM)
        for running in services:
            try:
                running.process.wait(timeout=self._stop_grace_s)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait()

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()
