"""`production.connect`: runtime calls go to a running platform's controller and gateway (here a
`LocalPlatform` standing in for a cluster), declaring calls are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.production.conftest import tiny_model, wait_for
from tfprod import production
from tfprod.policy import ControllerSettings
from tfprod.production.declared import Declared
from tfprod.production.home import registry_uri
from tfprod.runtime.local import LocalPlatform, PlatformOptions, free_port


@pytest.mark.slow
def test_connected_runtime_calls_reach_the_platform_and_declaring_is_refused(
    home: Path, tmp_path: Path
) -> None:
    version = production.ModelRegistry().register(model=tiny_model(1), name="rec")
    policy = Declared(
        name="rec",
        model="rec",
        registry=registry_uri(),
        stable=version,
        environment="production",
        scaling=None,
        controller=ControllerSettings(),
    ).policy()
    options = PlatformOptions(workdir=tmp_path / "cluster", gateway_port=free_port("127.0.0.1"))
    with LocalPlatform([policy], options) as cluster:
        token = (tmp_path / "cluster" / "admin-token").read_text().strip()
        production.connect(cluster.controller_url, gateway_url=cluster.gateway_url, token=token)
        rec = production.deployment("rec")
        answer = rec.predict(np.zeros((1, 4)))
        assert answer.version == "v1"
        rec.feedback(answer.request_id, "conversion")
        assert rec.url == f"{cluster.gateway_url}/v1/models/rec"
        assert wait_for(lambda: rec.weights, bool, what="weights", seconds=10) == {"v1": 100.0}
        with pytest.raises(production.NoWinnerError) as refused:
            rec.promote_winner()
        assert str(refused.value).startswith("promote_winner: A/B test 'rec' has no winner yet")
        with pytest.raises(production.DeclaredByTerraformError):
            production.ModelMonitor(model=rec, metrics=["error_rate"])
        production.shutdown()
