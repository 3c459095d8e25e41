"""One local platform per work directory, held with an advisory `fcntl.flock` lock.

A second `tfprod up` (or demo) on a work directory in use would overwrite the running one's
admin token, policies and pulled models. The lock file `<workdir>/up.lock` holds the pid of
the holder, so the refusal can name it; the kernel releases the lock when the holder exits,
however it exits, so a stale file never blocks anyone.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "up.lock"


class WorkdirInUseError(RuntimeError):
    """Another process holds the work directory; the message names its pid."""


@contextmanager
def workdir_lock(workdir: Path) -> Iterator[Path]:
    """Holds `workdir`'s lock for the `with` block; raises WorkdirInUseError if taken."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise WorkdirInUseError(
                f"work directory {workdir} is in use by another local platform (pid {holder});"
                " stop it or give another --workdir"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(descriptor)  # releases the lock
