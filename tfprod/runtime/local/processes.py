"""Start, supervise and stop the child processes of the local platform.

`tfprod up` runs each model server, the gateway and the controller as its own process, as a
cluster would run them as pods, so a fault injected into one version touches nothing else.
A `ProcessGroup` owns every child it started: leaving its `with` block (normally, by an
exception, or by Ctrl-C) stops them all, SIGTERM first and SIGKILL after a grace period.

Once started, children are supervised as Kubernetes restarts a crashed container: a child
that exits (whatever its code) is started again with the same command after a backoff that
doubles per consecutive exit, up to a cap, and starts again from the first delay once the
child has stayed up a while (`RestartPolicy` holds the figures). The rest of the group keeps
running meanwhile. Only `stop(name)` and `stop_all()` end a child for good. Each exit and
restart is logged (logger `tfprod.local`) and counted per child (`states()`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

_log = logging.getLogger("tfprod.local")
SUPERVISION_INTERVAL_S = 0.2
"""How often the supervisor looks for exited children."""


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


@dataclass(frozen=True, kw_only=True)
class RestartPolicy:
    """Backoff between restarts of a child that exited.

    Kubernetes waits 10 s, doubling to 5 min, and resets after 10 min up; one machine running
    tests and demos wants shorter figures, which these defaults are."""

    initial_delay_s: float = 1.0
    """Wait before the first restart after a run that lasted `reset_after_s` or more.
    Default 1 s."""
    max_delay_s: float = 30.0
    """Cap of the doubling wait. Default 30 s."""
    reset_after_s: float = 60.0
    """A child up at least this long before exiting starts the backoff again from
    `initial_delay_s`. Default 60 s."""

    def delay(self, consecutive_exits: int) -> float:
        """The wait before restarting after the `consecutive_exits`-th exit in a row (from 1)."""
        doubled: float = self.initial_delay_s * 2.0 ** (consecutive_exits - 1)
        return min(doubled, self.max_delay_s)


@dataclass(frozen=True, kw_only=True)
class ProcessState:
    """What the platform reports about one child."""

    name: str
    pid: int
    running: bool
    """The process is alive (it may still be loading: readiness is not tracked after start)."""
    restarts: int
    """Times the child was started again after exiting."""
    last_exit_code: int | None
    """Exit code of its last exit (negative: killed by that signal), None if it never exited."""


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    started_at: float = 0.0
    restarts: int = 0
    consecutive_exits: int = 0
    last_exit_code: int | None = None
    restart_at: float | None = None
    """When the pending restart is due; None while the child runs."""


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _end_with_parent(parent: int) -> Callable[[], None] | None:
    """The child's pre-exec step: SIGTERM when the starting thread ends. A parent that died
    between fork and this call is noticed by the changed parent pid."""
    if _prctl is None:
        return None
    prctl = _prctl

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return in_child


def _spawn(spec: ServiceSpec) -> subprocess.Popen[bytes]:
    output = open(spec.log, "ab") if spec.log else None  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(
            list(spec.argv),
            env={**os.environ, **spec.env},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            # Ctrl-C reaches the parent only, which then stops children in order.
            start_new_session=True,
            preexec_fn=_end_with_parent(os.getpid()),  # noqa: PLW1509 - one ctypes call, see module doc
        )
    finally:
        if output:
            output.close()


class _Spawner:
    """Starts every child of one group from one thread, which ends only with `close`: a
    child's death signal follows the thread that started it (see the module docstring)."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tfprod-spawner")

    def spawn(self, spec: ServiceSpec) -> subprocess.Popen[bytes]:
        return self._thread.submit(_spawn, spec).result()

    def close(self) -> None:
        self._thread.shutdown()


class ProcessGroup:
    """Children started together, supervised, and stopped together.

    `start` and `stop*` belong to one owner thread; supervision runs on a thread of its own
    (`supervise_in_background`) and the two share the children under a lock."""

    def __init__(
        self,
        *,
        ready_timeout_s: float = 60.0,
        stop_grace_s: float = 10.0,
        restart: RestartPolicy | None = None,
        probe: Callable[[str], bool] = _answers_ok,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ready_timeout_s = ready_timeout_s
        self._stop_grace_s = stop_grace_s
        self._restart = restart or RestartPolicy()
        self._probe = probe
        self._sleep = sleep
        self._monotonic = monotonic
        self._running: list[RunningService] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._spawner = _Spawner()

    @property
    def services(self) -> tuple[RunningService, ...]:
        with self._lock:
            return tuple(self._running)

    def states(self) -> tuple[ProcessState, ...]:
        """Every child in start order, with its restart count."""
        with self._lock:
            return tuple(
                ProcessState(
                    name=service.spec.name,
                    pid=service.process.pid,
                    running=service.process.poll() is None,
                    restarts=service.restarts,
                    last_exit_code=service.last_exit_code,
                )
                for service in self._running
            )

    def start(self, spec: ServiceSpec) -> RunningService:
        """Starts `spec` and waits until its ready URL answers 200."""
        running = RunningService(
            spec=spec, process=self._spawner.spawn(spec), started_at=self._monotonic()
        )
        with self._lock:
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

    def supervise(self) -> None:
        """One supervision pass: schedules the restart of children that exited, and restarts
        those whose backoff is over."""
        with self._lock:
            if self._stopping.is_set():
                return
            now = self._monotonic()
            for service in self._running:
                if service.restart_at is None:
                    self._note_exit(service, now)
                elif now >= service.restart_at:
                    service.process = self._spawner.spawn(service.spec)
                    service.started_at, service.restart_at = now, None
                    service.restarts += 1
                    _log.warning(
                        "restarted %s (restart %d, pid %d)",
                        service.spec.name, service.restarts, service.process.pid,
                    )  # fmt: skip

    def _note_exit(self, service: RunningService, now: float) -> None:
        code = service.process.poll()
        if code is None:
            return
        if now - service.started_at >= self._restart.reset_after_s:
            service.consecutive_exits = 0
        service.consecutive_exits += 1
        service.last_exit_code = code
        delay = self._restart.delay(service.consecutive_exits)
        service.restart_at = now + delay
        _log.warning("%s exited with code %d; restarting in %g s", service.spec.name, code, delay)

    def supervise_in_background(self) -> None:
        """Runs `supervise` every `SUPERVISION_INTERVAL_S` on a daemon thread until `stop_all`."""
        if self._supervisor is not None:
            return

        def loop() -> None:
            while not self._stopping.wait(SUPERVISION_INTERVAL_S):
                self.supervise()

        self._supervisor = threading.Thread(target=loop, name="tfprod-supervisor", daemon=True)
        self._supervisor.start()

    def stop(self, name: str) -> None:
        """Stops one child for good: it is not restarted (the demo's fault uses this)."""
        with self._lock:
            for running in self._running:
                if running.spec.name == name:
                    self._terminate([running])
                    self._running.remove(running)
                    return
        raise KeyError(name)

    def stop_all(self) -> None:
        """Ends supervision, then stops children in reverse start order: the gateway before the
        servers behind it."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join()
            self._supervisor = None
        with self._lock:
            self._terminate(list(reversed(self._running)))
            self._running.clear()
        self._spawner.close()

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
