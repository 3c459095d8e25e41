"""`make demo`'s main job, end to end: the controller ramps, decides an A/B test, rolls back."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from examples.demo_stack import (
    AB,
    AB_MIN_SAMPLES,
    CANARY,
    CHALLENGER,
    FAULT,
    RAMP,
    STABLE,
    STACK,
    synthesize_demo,
)
from tfprod.policy import ControllerSettings
from tfprod.runtime.local import stack_policies

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_stack_declares_a_ramp_an_ab_test_on_feedback_and_a_canary_held_for_a_fault(
    tmp_path: Path,
) -> None:
    synthesize_demo(tmp_path, (tmp_path / "registry").as_uri())
    policies = {policy.name: policy for policy in stack_policies(tmp_path, STACK)}
    assert sorted(policies) == [AB, RAMP, FAULT]
    ramp, ab, fault = policies[RAMP], policies[AB], policies[FAULT]
    assert ramp.canary is not None
    assert [(s.percent, s.hold_seconds) for s in ramp.canary.steps] == [
        (20, 4), (40, 4), (60, 4), (80, 4)
    ]  # fmt: skip
    assert ab.ab_test is not None
    assert (ab.ab_test.control, ab.ab_test.treatment) == (STABLE, CHALLENGER)
    assert [m.name for m in ab.ab_test.metrics] == ["conversion_rate", "click_through_rate"]
    assert ab.ab_test.min_sample_size == AB_MIN_SAMPLES
    assert fault.canary is not None
    assert [(s.percent, s.hold_seconds) for s in fault.canary.steps] == [(30, 3600)]
    for policy in policies.values():
        assert policy.controller == ControllerSettings(
            check_interval_seconds=1,
            evaluation_window_seconds=4,
            failure_threshold=1,
            min_samples=20,
            no_data_bound_seconds=120,
            actuation_bound_seconds=2,
        )
        assert policy.safety is not None
        assert policy.safety.fallback_version == STABLE
        assert [(str(t.condition), t.action) for t in policy.safety.triggers] == [
            ("error_rate > 5%", "immediate_rollback")
        ]


def _section(lines: list[str], heading: str) -> list[str]:
    """The lines under the numbered heading that starts with `heading`, up to the next one."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"\d\. ", lines[i])), len(lines)
    )
    return lines[start + 1 : end]


def _actions(section: list[str]) -> list[str]:
    """The controller decisions printed in a section: `HH:MM:SS.s (T+x s)  action  reason`."""
    pattern = re.compile(r"  \d\d:\d\d:\d\d\.\d \( *T[+-]\d+\.\d s\)  (\S+) ")
    return [match[1] for line in section if (match := pattern.match(line))]


@pytest.mark.slow
@pytest.mark.service
def test_demo_shows_the_controller_ramping_deciding_an_ab_test_and_rolling_back_a_fault(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any("controller: a check every 1 s over a 4 s window" in line for line in lines)

    ramp = _section(lines, "4. canary ramp")
    assert _actions(ramp) == ["start", "progress", "step", "step", "step", "promote", "promoted"]
    assert f"traffic now answered by {CANARY} 100.0%" in ramp[-1]

    ab = _section(lines, "5. A/B test")
    assert _actions(ab) == ["start", "progress", "ab_decided", "promote", "promoted"]
    assert any(f"{CHALLENGER} takes the A/B test's traffic" in line for line in ab)
    significance = [line for line in ab if "statistical_significance" in line]
    assert [line.split(":")[0].strip() for line in significance] == [
        "conversion_rate",
        "click_through_rate",
    ]
    assert any(f"winner {CHALLENGER}, statistical_significance" in line for line in significance)
    assert all("effect " in line and "interval [" in line for line in significance)
    assert f"winner {CHALLENGER} now takes weights" in ab[-1]

    fault = _section(lines, "6. fault")
    assert _actions(fault) == ["start", "progress", "fault", "rollback", "rolled_back"]
    assert any(f"{CANARY} at 0%; traffic now answered by {STABLE} 100.0%" in line for line in fault)
    timings = [line.split(":")[0].strip() for line in fault if re.search(r": \d+\.\d\d s$", line)]
    assert timings == [
        "detection (fault onset -> rollback started)",
        "rollback committed (fault onset -> every gateway replica at 0%)",
    ]
    assert any(
        re.fullmatch(r"  failed requests seen by the traffic since the onset: \d+; .*: \d+", line)
        for line in fault
    )
    summary = _section(lines, "7. summary")
    assert re.fullmatch(r"  every process stopped; demo wall time \d+ s", summary[-1])
