"""`make demo`'s main job, end to end: train, register, synthesize, serve, ramp, fault."""

import subprocess
import sys
from pathlib import Path

import pytest

from examples.demo import ramp_weights
from tfprod.policy import Policy

ROOT = Path(__file__).resolve().parent.parent


def policy() -> Policy:
    artifact = "file:///r/models/rec/versions/v"
    return Policy.model_validate(
        {
            "name": "recommendation-engine",
            "environment": "production",
            "model": "rec",
            "versions": [
                {"id": "stable", "artifact": artifact, "role": "stable"},
                {"id": "challenger", "artifact": artifact, "role": "challenger"},
                {"id": "canary", "artifact": artifact, "role": "canary"},
            ],
            "traffic": {"weights": {"stable": 85, "challenger": 10, "canary": 5}},
        }
    )


def test_ramp_keeps_the_challengers_share_and_gives_the_stable_version_the_rest() -> None:
    assert ramp_weights(policy(), 43) == {"challenger": 10, "canary": 43, "stable": 47}


def test_ramp_shrinks_the_challengers_share_when_the_canary_needs_the_room() -> None:
    assert ramp_weights(policy(), 95) == {"challenger": 5, "canary": 95, "stable": 0}


@pytest.mark.slow
def test_demo_ramps_the_canary_to_promotion_and_survives_its_server_being_killed(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    promoted = next(line for line in lines if "promoted" in line)
    assert "rec-v2.1.1 100.0%" in promoted
    fault = lines[lines.index("5. fault: canary rec-v2.1.1's model server is killed") + 3]
    assert "rec-v2.0.0-fallback 100.0%" in fault
    summary = lines[lines.index("6. summary") + 1]
    assert ", 0 failed;" in summary
