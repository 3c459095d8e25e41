"""The README's path to running an example locally: register its models, synthesize its local
flavour, `tfprod up` it, and get answers from each of its deployments."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from examples import local, register_models
from tfprod.runtime.local import stack_policies


@pytest.mark.slow
def test_the_fraud_example_runs_locally_from_the_documented_commands(tmp_path: Path) -> None:
    registry = (tmp_path / "registry").as_uri()
    outdir = tmp_path / "cdktf.out"
    assert register_models.main(["--registry", registry, "fraud"]) == 0
    assert local.main(["--registry", registry, "--outdir", str(outdir)]) == 0
    assert register_models.main(["--registry", registry, "fraud"]) == 0  # nothing left to add

    process = subprocess.Popen(
        [
            sys.executable, "-m", "tfprod", "up", "fraud-local", "--outdir", str(outdir),
            "--port", "0", "--workdir", str(tmp_path / "work"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        gateway = process.stdout.readline().split()[1]
        served = {
            policy.name: {version.id for version in policy.versions}
            for policy in stack_policies(outdir, "fraud-local")
        }
        assert sorted(served) == ["fraud-scorer", "merchant-risk"]
        for deployment, versions in served.items():
            request = urllib.request.Request(
                f"{gateway}/v1/models/{deployment}:predict",
                data=json.dumps({"instances": [[0.5, -1.0, 2.0, 0.0]]}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert len(json.loads(response.read())["predictions"]) == 1
                assert response.headers["X-Tfprod-Variant"] in versions
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def test_an_unknown_example_is_named_with_the_allowed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        register_models.main(["--registry", (tmp_path / "r").as_uri(), "frauds"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m examples.register_models: error: unknown example 'frauds';"
        " allowed: recommendation, fraud, ecommerce"
    )


def test_a_registry_that_is_not_a_local_file_uri_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        local.main(["--registry", "s3://models/registry"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m examples.local: error: argument --registry: must be an absolute file:// URI,"
        " got 's3://models/registry'"
    )
