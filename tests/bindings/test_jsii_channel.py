"""The jsii kernel runs on the direct channel (tfprod.bindings._channel): it reads and writes the
pipes Python holds, and its launcher relays console output, signals and exit status as jsii's
stock runtime does."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jsii._embedded.jsii as embedded
import pytest

from tfprod.bindings._channel import (
    DIRECT_CHANNEL,
    KERNEL_FILE,
    LAUNCHER_FILE,
    STOCK_CHANNEL,
    direct_kernel,
    runtime_files,
)

ROOT = Path(__file__).resolve().parents[2]

_PROCESS_TREE = """
import json, os, pathlib
import tfprod.bindings._core

def children(pid):
    tasks = pathlib.Path(f"/proc/{pid}/task")
    return [int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()]

def fd(pid, number):
    return os.readlink(f"/proc/{pid}/fd/{number}")

def cmdline(pid):
    return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\\0")[:-1]

[launcher] = children(os.getpid())
[kernel] = children(launcher)
print(json.dumps({
    "leaked": os.environ.get("JSII_RUNTIME"),
    "launcher": cmdline(launcher)[-1].decode(),
    "kernel": cmdline(kernel)[-1].decode(),
    "launcher_in": fd(launcher, 0), "launcher_out": fd(launcher, 1),
    "kernel_stdin": fd(kernel, 0), "kernel_in": fd(kernel, 3), "kernel_out": fd(kernel, 4),
}))
"""


def _process_tree(**environment: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROCESS_TREE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **environment},
    )
    tree: dict[str, str] = json.loads(result.stdout)
    return tree


def test_the_kernel_reads_and_writes_the_pipes_python_holds() -> None:
    tree = _process_tree()
    assert tree["launcher"].endswith(LAUNCHER_FILE)
    assert tree["kernel"].endswith(KERNEL_FILE)
    assert tree["kernel_in"] == tree["launcher_in"]
    assert tree["kernel_out"] == tree["launcher_out"]
    assert tree["kernel_in"].startswith("pipe:")
    assert tree["kernel_out"].startswith("pipe:")
    assert tree["kernel_stdin"] == "/dev/null"
    assert tree["leaked"] is None  # children of the app start their own runtime


def test_a_runtime_the_user_sets_is_the_one_started(tmp_path: Path) -> None:
    for name, path in embedded.EMBEDDED_FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes((Path(embedded.__file__).parent / name).read_bytes())
    stock = str(tmp_path / "bin" / "jsii-runtime.js")
    tree = _process_tree(JSII_RUNTIME=stock)
    assert tree["launcher"] == stock
    assert tree["leaked"] == stock


def test_the_kernel_gets_the_direct_channel_only_where_its_text_is_found_once() -> None:
    assert direct_kernel(f"a;{STOCK_CHANNEL};b") == f"a;{DIRECT_CHANNEL};b"
    assert direct_kernel("a;readFD:0,writeFD:1;b") is None
    assert direct_kernel(f"{STOCK_CHANNEL};{STOCK_CHANNEL}") is None


_FAKE_KERNEL = """
const fs = require('fs');
process.stdout.write('printed by javascript');
process.stderr.write('warned by javascript');
const buffer = Buffer.alloc(64);
const read = fs.readSync(3, buffer, 0, 64, null);
if (buffer.toString('utf-8', 0, read) === 'wait\\n') {
  setInterval(() => {}, 1000);
} else {
  fs.writeSync(4, `answer to ${buffer.toString('utf-8', 0, read)}`);
  process.exitCode = 3;
}
"""


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    """The launcher in a runtime whose kernel is a small script with the kernel's channel."""
    files = runtime_files()
    assert files is not None
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    (tmp_path / KERNEL_FILE).write_text(textwrap.dedent(_FAKE_KERNEL))
    return tmp_path / LAUNCHER_FILE


def _console(stderr: bytes) -> list[tuple[str, str]]:
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    return sorted(
        (key, base64.b64decode(value).decode()) for line in lines for key, value in line.items()
    )


def test_what_javascript_prints_is_relayed_and_the_kernels_status_kept(launcher: Path) -> None:
    result = subprocess.run(
        ["node", str(launcher)], input=b"ping\n", capture_output=True, check=False, timeout=60
    )
    assert result.stdout == b"answer to ping\n"
    assert _console(result.stderr) == [
        ("stderr", "warned by javascript"),
        ("stdout", "printed by javascript"),
    ]
    assert result.returncode == 3


def test_a_signal_to_the_launcher_stops_the_kernel_with_the_signals_status(
    launcher: Path,
) -> None:
    process = subprocess.Popen(
        ["node", str(launcher)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(b"wait\n")
    process.stdin.flush()
    process.stderr.readline()  # the kernel is running once it has printed
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
