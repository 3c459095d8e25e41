"""A direct channel between Python and the jsii kernel.

jsii's stock runtime (`bin/jsii-runtime.js`) starts the kernel (`lib/program.js`) as a child
process and relays every API message between its own stdin and stdout and the child's fd 3:
each request and each answer crosses two Node.js processes and four pipes. Measured here (2,000
reads of `node.id`, quiet machine): 0.26-0.30 ms a read through the relay, 0.08-0.16 ms direct;
a cluster stack of 100 deployments sends the kernel about 2,000 messages.

The runtime written here hands the kernel Python's own pipes: the kernel reads requests from
fd 3, a copy of the launcher's stdin, and writes answers to fd 4, a copy of its stdout, so a
message is handled by the kernel alone. The launcher (`_LAUNCHER`) only relays what JavaScript
code prints on the kernel's stdout and stderr, as JSON lines on its own stderr the way the stock
runtime does (jsii's Python side decodes them), forwards signals and exits with the kernel's
status. The kernel's stdin stays /dev/null: a JavaScript library that opens `process.stdin`
makes its descriptor non-blocking, which the kernel's synchronous reads could not survive on
a pipe it shared.

The kernel is jsii's own `program.js` with one change, the descriptors of its API channel. When
the text to change is not found exactly once (a jsii release that rewrote it), nothing is
installed and jsii starts its stock runtime. The files go to a cache directory named by a
digest of what is written, so every process, its children included, finds them complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

STOCK_CHANNEL = "readFD:3,writeFD:3"
DIRECT_CHANNEL = "readFD:3,writeFD:4"
LAUNCHER_FILE = "bin/tfprod-jsii-runtime.js"
KERNEL_FILE = "lib/program.js"

_LAUNCHER = """'use strict';
// tfprod's jsii runtime: the kernel talks on the parent's pipes (tfprod/bindings/_channel.py).
const { spawn } = require('child_process');
const { constants } = require('os');
const { join } = require('path');
const { finished } = require('stream');

const kernel = spawn(
  process.execPath,
  [...process.execArgv, '--preserve-symlinks', join(__dirname, '..', 'lib', 'program.js')],
  { stdio: ['ignore', 'pipe', 'pipe', 0, 1] },
);
const relay = (key) => (chunk) => {
  process.stderr.write(`${JSON.stringify({ [key]: Buffer.from(chunk).toString('base64') })}\\n`);
};
kernel.stdout.on('data', relay('stdout'));
kernel.stderr.on('data', relay('stderr'));

let signalled;
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) {
  process.on(name, () => {
    signalled = signalled ?? name;
    kernel.kill(name);
  });
}
kernel.once('error', (error) => {
  console.error('Failed to start the jsii kernel:', error.stack);
  process.exit(1);
});
const drained = (stream) => new Promise((resolve) => finished(stream, () => resolve()));
kernel.once('exit', (code, signal) => {
  const name = signal ?? signalled;
  const status = name != null ? 128 + (constants.signals[name] ?? 0) : (code ?? 0);
  Promise.all([kernel.stdout, kernel.stderr].map(drained)).then(() => process.exit(status));
});
"""


def direct_kernel(program: str) -> str | None:
    """jsii's kernel program with its API channel on fds 3 and 4, or None when the channel's
    text is not there exactly once."""
    if program.count(STOCK_CHANNEL) != 1:
        return None
    return program.replace(STOCK_CHANNEL, DIRECT_CHANNEL)


def runtime_files() -> dict[str, bytes] | None:
    """The direct runtime's files by relative path, made from the runtime embedded in jsii's
    Python package; None when the kernel cannot be given the direct channel."""
    import jsii._embedded.jsii as embedded

    package = resources.files(embedded)
    files = {
        path: package.joinpath(name).read_bytes() for name, path in embedded.EMBEDDED_FILES.items()
    }
    kernel = direct_kernel(files[KERNEL_FILE].decode("utf-8"))
    if kernel is None:
        return None
    return {**files, KERNEL_FILE: kernel.encode("utf-8"), LAUNCHER_FILE: _LAUNCHER.encode()}


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _written(files: Mapping[str, bytes]) -> Path:
    """The directory holding `files`, written once per content: into a fresh directory that
    is then renamed into place, so a reader never sees it half written."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode())
        digest.update(hashlib.sha256(files[path]).digest())
    parent = _cache_home() / "tfprod"
    target = parent / f"jsii-runtime-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".jsii-runtime-", dir=parent))
    for path, data in files.items():
        (staging / path).parent.mkdir(parents=True, exist_ok=True)
        (staging / path).write_bytes(data)
    try:
        staging.rename(target)
    except OSError:  # another process put it there first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _launcher() -> str | None:
    files = runtime_files()
    if files is None:
        return None
    try:
        return str(_written(files) / LAUNCHER_FILE)
    except OSError:  # no writable cache: the stock runtime still works
        return None


@contextmanager
def direct_channel() -> Iterator[None]:
    """Start the jsii kernel inside this block on the direct runtime.

    `JSII_RUNTIME` is set only inside the block, so that child processes (another tfprod,
    perhaps with another jsii) start their own; a runtime the user set is left alone.
    """
    launcher = None if "JSII_RUNTIME" in os.environ else _launcher()
    if launcher is not None:
        os.environ["JSII_RUNTIME"] = launcher
    try:
        yield
    finally:
        if launcher is not None:
            del os.environ["JSII_RUNTIME"]


__all__ = ["direct_channel", "direct_kernel", "runtime_files"]
