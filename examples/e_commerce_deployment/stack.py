"""An online shop running three models on one platform.

- `search-ranking` (production) A/B tests a new ranker on 20% of searches for ten days,
  judged on click-through and add-to-cart rates, and rolls back gradually if latency slips.
- `basket-recommender` (production) ramps a new version in five two-minute steps, with typed
  success criteria, and falls back at once on errors.
- `demand-forecaster` (staging) runs its next version as a shadow on all traffic and captures
  feature attributions for the analysts.
"""

from __future__ import annotations

from examples.clouds import Team, platform
from examples.toy_models import training_features
from tfprod.constructs import (
    ABTest,
    AutoScaling,
    CanaryDeployment,
    Construct,
    DriftDetector,
    ModelDebugger,
    ModelDeployment,
    ModelMonitor,
    ModelPlatformStack,
    SafetyNet,
    ServingResources,
    ShadowTest,
)

TEAM = Team(
    stack="ecommerce",
    namespace="shop-ml",
    bucket="acme-shop-models",
    storage_account="acmeshopmodels",
)
ALERTS = {"slack": "#shop-ml-alerts", "email": ["shop-ml@company.com"], "pagerduty": "shop-ml"}


def build(scope: Construct, cloud: str) -> ModelPlatformStack:
    """The shop's platform on `cloud`."""
    stack = platform(scope, TEAM, cloud)
    _search_ranking(stack)
    _basket_recommender(stack)
    _demand_forecaster(stack)
    return stack


def _search_ranking(stack: ModelPlatformStack) -> None:
    ranking = ModelDeployment(
        stack,
        "search-ranking",
        name="search-ranking",
        model=stack.registry.model("search-ranker"),
        version="ranker-v3.2.0",
        environment="production",
        scaling=AutoScaling(
            min_replicas=4, max_replicas=40, target_cpu_percent=60, target_requests_per_second=800
        ),
        resources=ServingResources(cpu="1", memory="2Gi", cpu_limit="2", memory_limit="4Gi"),
    )
    ABTest(
        ranking,
        "ab-test",
        name="ranker-v3-3-relevance",
        model_a="ranker-v3.2.0",
        model_b="ranker-v3.3.0",
        traffic_split=0.2,
        success_metrics=["click_through_rate", "add_to_cart_rate"],
        duration_days=10,
        min_sample_size=50000,
        significance_level=0.05,
    )
    ModelMonitor(
        ranking,
        "monitor",
        metrics=["prediction_latency", "error_rate", "feature_drift"],
        alerts=ALERTS,
    )
    DriftDetector(
        ranking,
        "drift",
        reference_data=training_features(),
        feature_names=["query_length", "click_history", "price_band", "session_depth"],
        alert_threshold=0.2,
        detection_window="6h",
    )
    SafetyNet(
        ranking,
        "safety",
        fallback_model="ranker-v3.2.0",
        triggers={
            "error_rate > 2%": "immediate_rollback",
            "latency_p95 > 150ms": "gradual_rollback",
        },
    )


def _basket_recommender(stack: ModelPlatformStack) -> None:
    basket = ModelDeployment(
        stack,
        "basket-recommender",
        name="basket-recommender",
        model=stack.registry.model("basket"),
        version="basket-v1.8.0",
        environment="production",
        scaling=AutoScaling(min_replicas=2, max_replicas=12, target_cpu_percent=70),
    )
    CanaryDeployment(
        basket,
        "canary",
        new_model="basket-v1.9.0",
        traffic_percentage=10,
        ramp_up_schedule="linear_5_steps_2m",
        success_criteria=["error_rate < 1%", "latency_p95 < 80ms"],
    )
    ModelMonitor(basket, "monitor", metrics=["prediction_latency", "error_rate"], alerts=ALERTS)
    SafetyNet(
        basket,
        "safety",
        fallback_model="basket-v1.8.0",
        triggers={"error_rate > 3%": "immediate_rollback"},
    )


def _demand_forecaster(stack: ModelPlatformStack) -> None:
    forecaster = ModelDeployment(
        stack,
        "demand-forecaster",
        name="demand-forecaster",
        model=stack.registry.model("demand"),
        version="demand-v2.0.0",
        environment="staging",
        replicas=1,
    )
    ShadowTest(
        forecaster,
        "shadow",
        candidate="demand-v2.1.0",
        mirror_percentage=100,
        compare_outputs=True,
        duration="3d",
    )
    ModelDebugger(forecaster, "debugger", capture_rate=0.02, features=["shap", "gradients"])
