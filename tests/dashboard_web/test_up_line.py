"""`tfprod up` prints where the dashboard is, and nothing secret, and serves it there."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard_web.platform import register_versions
from tests.local.test_up import rec_policy, write_synthesized

pytestmark = pytest.mark.slow


def test_up_prints_the_dashboard_url_without_the_token_and_serves_the_page(
    tmp_path: Path,
) -> None:
    outdir = tmp_path / "cdktf.out"
    write_synthesized(outdir, {"rec": [rec_policy(register_versions(tmp_path))]})
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(tmp_path / "work"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines = []
        while not lines or lines[-1] != "press Ctrl-C to stop":
            line = process.stdout.readline()
            assert line, f"tfprod up stopped after {lines}"
            lines.append(line.rstrip("\n"))
        token = (tmp_path / "work" / "admin-token").read_text(encoding="utf-8")
        (controller,) = [line.split()[1] for line in lines if line.startswith("controller: ")]
        (dashboard,) = [line for line in lines if line.startswith("dashboard: ")]
        assert dashboard == (
            f"dashboard: {controller}/dashboard/ (paste the admin token file's token into the page)"
        )
        assert not any(token in line for line in lines)
        with urllib.request.urlopen(f"{controller}/dashboard/", timeout=10) as page:
            assert (page.status, page.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
            assert b"<title>tfprod dashboard</title>" in page.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
