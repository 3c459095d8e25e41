"""The proposal's A/B snippet on the embedded platform: traffic and feedback until
`statistical_significance > 0.95`, then `promote_winner()` gives the winner all traffic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.production.conftest import tiny_model
from tfprod import production
from tfprod.policy import ControllerSettings

MAX_REQUESTS = 3000


@pytest.mark.slow
def test_ab_test_reaches_significance_and_promote_winner_moves_the_traffic(home: Path) -> None:
    production.configure(
        controller=ControllerSettings(
            check_interval_seconds=1, evaluation_window_seconds=5, min_samples=10
        ),
        ab_min_sample_size=100,
    )
    my_model, model_v2 = tiny_model(1), tiny_model(2)
    deployment = production.deploy(
        model=my_model, name="recommendation_engine", environment="production"
    )
    # The proposal's snippet, with only `tf.production.` replaced by `production.`:
    ab_test = production.ABTest(
        name="recommendation_algorithm_test",
        model_a=my_model,
        model_b=model_v2,
        traffic_split=0.5,
        success_metrics=["click_rate", "conversion"],
        duration_days=14,
    )
    results = ab_test.get_results()
    assert results.winner is None
    with pytest.raises(production.NoWinnerError) as refused:
        ab_test.promote_winner()
    assert str(refused.value).startswith(
        "promote_winner: A/B test 'recommendation_algorithm_test' has no winner yet"
    )
    assert deployment.weights == {"v1": 50.0, "v2": 50.0}

    rng = np.random.default_rng(0)
    for sent in range(MAX_REQUESTS):
        answer = deployment.predict(rng.normal(size=(1, 4)))
        better = answer.version == ab_test.model_b
        if rng.random() < (0.6 if better else 0.1):
            deployment.feedback(answer.request_id, "click_rate")
        if rng.random() < (0.5 if better else 0.05):
            deployment.feedback(answer.request_id, "conversion")
        if sent % 100 == 99:
            results = ab_test.get_results()
            if results.statistical_significance > 0.95:
                break
    assert results.statistical_significance > 0.95
    assert results.winner == "v2"
    assert results.metrics["click_rate"].effect is not None
    assert results.metrics["click_rate"].effect > 0
    assert ab_test.promote_winner() == "v2"
    assert deployment.weights == {"v1": 0.0, "v2": 100.0}
