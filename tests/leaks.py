"""Processes the test session started that are still running when it ends.

Every process started during the session inherits `SESSION_MARK` in its environment, so the
ones left over at the end are found in `/proc` whatever their parent became. jsii's Node.js
kernel (`node .../bin/tfprod-jsii-runtime.js`, or jsii's stock `.../bin/jsii-runtime.js`, and
its own child, started by each process that imported cdktn) lives as long as the pytest
process that owns it, so it is not a leftover; nor are multiprocessing's helper processes,
which live as long as the process that used it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from tfprod.bindings._channel import LAUNCHER_FILE

SESSION_MARK = "TFPROD_TEST_SESSION"
_HELPERS_OF_PYTEST = (
    f"/{LAUNCHER_FILE}",
    "/bin/jsii-runtime.js",
    "multiprocessing.resource_tracker",
    "multiprocessing.forkserver",
)


def _environ(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, a zombie, or another user's
        return b""


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def _parent(pid: str) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])


def marked_processes(session: str) -> dict[int, str]:
    """pid -> command line of every live process carrying `SESSION_MARK=session`, but this one
    and its own helpers (`_HELPERS_OF_PYTEST`, with their descendants)."""
    mark = f"{SESSION_MARK}={session}".encode()
    marked: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        marks = _environ(entry.name).split(b"\0") if entry.name.isdigit() else []
        if mark in marks and (command := _command(entry.name)):
            marked[int(entry.name)] = (_parent(entry.name), command)
    helpers = {
        pid
        for pid, (parent, command) in marked.items()
        if parent == os.getpid() and any(helper in command for helper in _HELPERS_OF_PYTEST)
    }

    def is_helper(pid: int) -> bool:
        while pid in marked:
            if pid in helpers:
                return True
            pid = marked[pid][0]
        return False

    return {
        pid: command
        for pid, (_, command) in marked.items()
        if pid != os.getpid() and not is_helper(pid)
    }


def leftover_processes(session: str, *, grace_s: float = 10.0) -> dict[int, str]:
    """The marked processes still running after `grace_s` (children stopping in their own
    time get it), each then killed so nothing outlives the session."""
    deadline = time.monotonic() + grace_s
    left = marked_processes(session)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked_processes(session)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left
