import json

import pytest

from tfprod.policy import Policy
from tfprod.runtime.gateway.config import (
    Endpoint,
    GatewayConfig,
    Route,
    Shadow,
    StickyKey,
    Variant,
)
from tfprod.runtime.gateway.policy_routes import route_from_policy


def endpoint(version: str, port: int) -> Endpoint:
    return Endpoint(name=version, url=f"http://127.0.0.1:{port}", model_name="rec")


ENDPOINTS = {
    "rec-v2.0.0": endpoint("rec-v2.0.0", 9001),
    "rec-v2.1.0": endpoint("rec-v2.1.0", 9002),
    "rec-v2.2.0": endpoint("rec-v2.2.0", 9003),
    "rec-v1.9.0": endpoint("rec-v1.9.0", 9004),
}


def policy(**sections: object) -> Policy:
    return Policy.model_validate(
        {
            "name": "recommendation-engine",
            "environment": "production",
            "model": "rec",
            "versions": [
                {
                    "id": "rec-v2.1.0",
                    "artifact": "file:///r/models/rec/versions/v",
                    "role": "canary",
                },
                {
                    "id": "rec-v2.0.0",
                    "artifact": "file:///r/models/rec/versions/v",
                    "role": "stable",
                },
                {
                    "id": "rec-v2.2.0",
                    "artifact": "file:///r/models/rec/versions/v",
                    "role": "shadow",
                },
                {
                    "id": "rec-v1.9.0",
                    "artifact": "file:///r/models/rec/versions/v",
                    "role": "fallback",
                },
            ],
            "traffic": {
                "weights": {"rec-v2.0.0": 95, "rec-v2.1.0": 5},
                "sticky": {"source": "header", "name": "X-User-Id"},
            },
            **sections,
        }
    )


def test_lists_stable_before_canary_so_a_ramp_only_moves_callers_to_the_canary() -> None:
    route = route_from_policy(policy(), ENDPOINTS)
    assert route == Route(
        model="recommendation-engine",
        variants=(
            Variant(endpoint=ENDPOINTS["rec-v2.0.0"], weight=0.95),
            Variant(endpoint=ENDPOINTS["rec-v2.1.0"], weight=0.05),
        ),
        sticky=StickyKey(source="header", name="X-User-Id"),
    )


def test_maps_shadow_share_fallback_version_and_capture_rate() -> None:
    route = route_from_policy(
        policy(
            shadow={"version": "rec-v2.2.0", "mirror_percent": 25},
            safety={"fallback_version": "rec-v1.9.0", "triggers": {"error_rate > 5%": "pause"}},
            debugger={"capture_rate": 0.01, "explainers": ["shap"]},
        ),
        ENDPOINTS,
    )
    assert route.shadows == (Shadow(endpoint=ENDPOINTS["rec-v2.2.0"], fraction=0.25),)
    assert route.fallback == ENDPOINTS["rec-v1.9.0"]
    assert route.capture_rate == 0.01


def test_names_the_version_that_has_no_serving_endpoint() -> None:
    with pytest.raises(KeyError) as error:
        route_from_policy(policy(), {"rec-v2.0.0": ENDPOINTS["rec-v2.0.0"]})
    assert (
        error.value.args[0]
        == "no serving endpoint for version 'rec-v2.1.0' of 'recommendation-engine'"
    )


def test_a_config_built_from_a_policy_survives_the_json_round_trip() -> None:
    route = route_from_policy(
        policy(
            shadow={"version": "rec-v2.2.0", "mirror_percent": 25},
            safety={"fallback_version": "rec-v1.9.0", "triggers": {"error_rate > 5%": "pause"}},
        ),
        ENDPOINTS,
    )
    config = GatewayConfig(routes=(route,), admin_token_file="/run/token", seed=7)
    assert GatewayConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_renames_a_fallback_that_is_also_the_stable_version() -> None:
    route = route_from_policy(
        policy(safety={"fallback_version": "rec-v2.0.0", "triggers": {"error_rate > 5%": "pause"}}),
        ENDPOINTS,
    )
    assert route.fallback == Endpoint(
        name="rec-v2.0.0-fallback", url="http://127.0.0.1:9001", model_name="rec"
    )
