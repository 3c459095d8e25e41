"""ModelMonitor's metrics: the proposal's grouped form, and names the platform cannot measure
refused with the construct path, the bad value and the allowed names."""

from __future__ import annotations

import pytest

from tests.constructs.conftest import app, deployment, outdir, platform
from tfprod.constructs import ConstructError, ModelDeployment, ModelMonitor
from tfprod.policy import Monitor
from tfprod.policy.observe import MONITOR_METRICS

__all__ = ["app", "deployment", "outdir", "platform"]  # the construct fixtures used here

ALLOWED = (
    "performance: prediction_latency, latency_p50, latency_p90, latency_p95, latency_p99,"
    " throughput, requests_per_second, error_rate; quality: prediction_confidence,"
    " nonfinite_predictions, feature_drift, drift_score; business: click_rate,"
    " click_through_rate, ctr, conversion_rate, revenue_per_request"
)


def test_grouped_form_is_read_as_its_metrics_in_group_order(deployment: ModelDeployment) -> None:
    ModelMonitor(
        deployment,
        "monitor",
        metrics={
            "performance": ["prediction_latency", "throughput", "error_rate"],
            "quality": ["prediction_confidence", "feature_drift"],
            "business": ["click_rate", "conversion_rate", "revenue_per_request"],
        },
    )

    monitor = deployment.policy().monitor
    assert monitor is not None
    assert monitor.metrics == (
        "prediction_latency",
        "throughput",
        "error_rate",
        "prediction_confidence",
        "feature_drift",
        "click_rate",
        "conversion_rate",
        "revenue_per_request",
    )


def test_a_flat_list_still_works(deployment: ModelDeployment) -> None:
    ModelMonitor(deployment, "monitor", metrics=["error_rate", "nonfinite_predictions"])

    monitor = deployment.policy().monitor
    assert monitor is not None
    assert monitor.metrics == ("error_rate", "nonfinite_predictions")


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        (
            ["error_rate", "revenue_per_user"],
            f"ml/rec/monitor: metrics: metric 'revenue_per_user' is not one the platform"
            f" measures; allowed: {ALLOWED}",
        ),
        (
            {"performance": ["latency_p95"], "business": ["revenue_per_user"]},
            "ml/rec/monitor: metrics: metric 'revenue_per_user' is not one the platform measures"
            " in group 'business'; allowed: click_rate, click_through_rate, ctr, conversion_rate,"
            " revenue_per_request",
        ),
        (
            {"performance": ["click_rate"]},
            "ml/rec/monitor: metrics: metric 'click_rate' is not one the platform measures in"
            " group 'performance'; allowed: prediction_latency, latency_p50, latency_p90,"
            " latency_p95, latency_p99, throughput, requests_per_second, error_rate",
        ),
        (
            {"latency": ["latency_p95"]},
            "ml/rec/monitor: metrics: metric group 'latency' is not known; allowed: performance,"
            " quality, business",
        ),
        (
            {"quality": "feature_drift"},
            "ml/rec/monitor: metrics: metric group 'quality' must be a list of metric names",
        ),
        (
            {"performance": ["error_rate"], "quality": ["error_rate"]},
            "ml/rec/monitor: metrics: metric 'error_rate' is not one the platform measures in"
            " group 'quality'; allowed: prediction_confidence, nonfinite_predictions,"
            " feature_drift, drift_score",
        ),
        (
            {"performance": ["error_rate", "error_rate"]},
            "ml/rec/monitor: metrics: metrics repeat: error_rate",
        ),
    ],
)
def test_refuses_metrics_the_platform_cannot_measure(
    deployment: ModelDeployment, metrics: object, message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        ModelMonitor(deployment, "monitor", metrics=metrics)  # type: ignore[arg-type]

    assert str(error.value) == message


def test_every_measured_metric_has_one_group() -> None:
    names = [name for group in MONITOR_METRICS.values() for name in group]

    assert len(names) == len(set(names))
    assert Monitor.model_validate({"metrics": names}).metrics == tuple(names)
