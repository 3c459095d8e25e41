"""The proposal's declaring snippets, exported as a cdktn app: it synthesizes, passes `tfprod
validate` (and the governance run at synth), and its Policies equal the session's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.production.conftest import tiny_model
from tfprod import production
from tfprod.cli._app import main
from tfprod.policy import read_policy
from tfprod.production.session import current

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_exported_stack_synthesizes_validates_and_gives_the_sessions_policy(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production.configure(autostart=False)
    my_model, model_v2 = tiny_model(1), tiny_model(2)
    training_data = np.random.default_rng(0).normal(size=(500, 4))
    # The proposal's snippets, with only `tf.production.` replaced by `production.`:
    deployment = production.deploy(
        model=my_model,
        name="recommendation_engine",
        scaling=production.AutoScaling(
            min_replicas=2, max_replicas=20, target_cpu_percent=70, target_requests_per_second=1000
        ),
        environment="production",
    )
    ab_test = production.ABTest(
        name="recommendation_algorithm_test",
        model_a=my_model,
        model_b=model_v2,
        traffic_split=0.1,
        success_metrics=["click_rate", "conversion"],
        duration_days=14,
    )
    production.ModelMonitor(
        model=deployment,
        metrics={
            "performance": ["latency_p95", "throughput", "error_rate"],
            "quality": ["prediction_confidence", "feature_drift"],
            "business": ["click_rate"],
        },
        alerts={"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"},
    )
    production.DriftDetector(reference_data=training_data, alert_threshold=0.1)
    production.SafetyNet(
        fallback_model=my_model,
        triggers={
            "error_rate > 5%": "immediate_rollback",
            "latency_p95 > 200ms": "gradual_rollback",
            "drift_score > 0.2": "alert_and_monitor",
        },
    )
    production.ModelDebugger(model=deployment)
    production.deploy(
        model=tiny_model(3, name="ranker"), name="search_ranker", environment="staging"
    )
    production.CanaryDeployment(
        new_model=tiny_model(4, name="ranker"),
        traffic_percentage=5,
        ramp_up_schedule="linear_10_minutes",
        success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
    )
    app = production.export(tmp_path / "stacks" / "recommendation.py")

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(app)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    outdir = tmp_path / "cdktf.out"
    for name in ("recommendation-engine", "search-ranker"):
        synthesized = read_policy(outdir / "stacks" / "notebook" / f"{name}.policy.json")
        assert synthesized == current().deployments[name].policy(), name
    assert ab_test.model_a == "v1"
    assert ab_test.model_b == "v2"
    capsys.readouterr()
    assert main(["validate", str(outdir)]) == 0
    assert capsys.readouterr().out.startswith(f"{outdir}: 1 stack (notebook) valid against ")
