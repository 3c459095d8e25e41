"""The embedded platform: `tfprod.runtime.local.LocalPlatform` run for a session, in the background.

The platform is started on the session's first `deploy` on a thread of its own, which also
owns every later start and stop (a `ProcessGroup` has one owner thread). When declarations
change the session's Policies, the next runtime call restarts it with them (live weights
survive in the status files, as with `tfprod up`); its gateway and controller keep their
ports, so a deployment's `url` stays valid.
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from tfprod.policy import Policy
from tfprod.runtime.local import LocalPlatform, PlatformOptions, free_port
from tfprod.runtime.local.platform import ADMIN_TOKEN_FILE

HOST = "127.0.0.1"


class EmbeddedPlatform:
    """A `LocalPlatform` in `workdir`, applied and stopped from one owner thread."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.gateway_url = f"http://{HOST}:{free_port(HOST)}"
        self.controller_url = f"http://{HOST}:{free_port(HOST)}"
        self._platform: LocalPlatform | None = None
        self._applied: tuple[Policy, ...] | None = None
        self._pending: Future[None] | None = None
        self._tasks: queue.Queue[tuple[Callable[[], None], Future[None]]] = queue.Queue()
        threading.Thread(target=self._serve, name="tfprod-production", daemon=True).start()

    def apply(self, policies: Sequence[Policy]) -> Future[None]:
        """Starts (or restarts) the platform with `policies` in the background."""
        wanted = tuple(policies)
        self._pending = self._submit(lambda: self._apply(wanted))
        return self._pending

    def ready(self, policies: Sequence[Policy]) -> None:
        """Waits for the platform to run `policies`, restarting it if they changed; raises what
        starting it raised."""
        if self._pending is not None:
            self._pending.result()
        if self._applied != tuple(policies):
            self.apply(policies).result()

    def token(self) -> str:
        """The admin token of the gateway and the controller (fresh for each start)."""
        return (self.workdir / ADMIN_TOKEN_FILE).read_text(encoding="utf-8").strip()

    def stop(self) -> None:
        """Stops every process and removes the work directory."""
        self._submit(self._close).result()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _submit(self, task: Callable[[], None]) -> Future[None]:
        done: Future[None] = Future()
        self._tasks.put((task, done))
        return done

    def _serve(self) -> None:
        while True:
            task, done = self._tasks.get()
            try:
                task()
            except BaseException as error:  # handed to the caller waiting on the future
                done.set_exception(error)
            else:
                done.set_result(None)

    def _apply(self, policies: tuple[Policy, ...]) -> None:
        if policies == self._applied:
            return
        self._close()
        self.workdir.mkdir(parents=True, exist_ok=True)
        platform = LocalPlatform(
            policies,
            PlatformOptions(
                workdir=self.workdir,
                host=HOST,
                gateway_port=_port(self.gateway_url),
                controller_port=_port(self.controller_url),
            ),
        )
        platform.__enter__()
        self._platform, self._applied = platform, policies

    def _close(self) -> None:
        if self._platform is not None:
            self._platform.__exit__(None, None, None)
        self._platform, self._applied = None, None


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])
