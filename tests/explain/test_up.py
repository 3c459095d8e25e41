"""`tfprod up` runs the explainer when a deployment declares a ModelDebugger."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.explain.models import DOMINANT
from tests.explain.processes import DEPLOYMENT, debugged_policy, registry_with_two_versions
from tests.local.test_up import write_synthesized

pytestmark = pytest.mark.slow


def test_up_starts_the_explainer_and_the_gateway_forwards_to_it(tmp_path: Path) -> None:
    registry = registry_with_two_versions(tmp_path)
    outdir = tmp_path / "cdktf.out"
    write_synthesized(outdir, {"rec": [debugged_policy(registry, ["gradients"])]})
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "up", "--outdir", str(outdir), "--port", "0",
         "--workdir", str(tmp_path / "work")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        printed = dict(
            line.split(": ", 1) for line in iter(process.stdout.readline, "press Ctrl-C to stop\n")
        )
        gateway = printed["gateway"].strip()
        answer = httpx.post(
            f"{gateway}/v1/models/{DEPLOYMENT}:explain",
            json={"instances": [[1, 1, 1, 1]], "method": "attention_maps"},
            timeout=120,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
        process.stdout.close()

    assert printed["explainer"].startswith("http://127.0.0.1:")
    assert answer.status_code == 200
    (explained,) = answer.json()["explanations"]
    assert (explained["version"], explained["ranking"][0]) == ("v1", DOMINANT)
    assert explained["background"] == "reference_profile"
