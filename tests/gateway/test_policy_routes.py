import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tfprod.policy import Policy, policy_digest, policy_json
from tfprod.runtime.gateway.config import (
    ConfigError,
    Endpoint,
    GatewayConfig,
    Route,
    Shadow,
    StickyKey,
    Variant,
)
from tfprod.runtime.gateway.policy_routes import config_from_mounted_policies, route_from_policy


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
            # A fallback version is live too, at 0% until a rollback sends traffic to it.
            Variant(endpoint=ENDPOINTS["rec-v1.9.0"], weight=0.0),
        ),
        sticky=StickyKey(source="header", name="X-User-Id"),
        labels=(("stable", "rec-v2.0.0"), ("canary", "rec-v2.1.0"), ("fallback", "rec-v1.9.0")),
        policy_digest=policy_digest(policy()),
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


def test_renames_a_fallback_that_is_also_the_stable_version() -> None:
    route = route_from_policy(
        policy(safety={"fallback_version": "rec-v2.0.0", "triggers": {"error_rate > 5%": "pause"}}),
        ENDPOINTS,
    )
    assert route.fallback == Endpoint(
        name="rec-v2.0.0-fallback", url="http://127.0.0.1:9001", model_name="rec"
    )


def mount(root: Path, deployment: Policy, endpoints: object) -> Path:
    directory = root / deployment.name
    directory.mkdir(parents=True)
    (directory / "policy.json").write_text(policy_json(deployment))
    (directory / "endpoints.json").write_text(json.dumps(endpoints))
    return directory


def test_reads_each_mounted_policy_with_its_endpoints(tmp_path: Path) -> None:
    urls = {version: endpoint.url for version, endpoint in ENDPOINTS.items()}
    mount(tmp_path, policy(), urls)
    config = config_from_mounted_policies(tmp_path, admin_token_file="/run/token")
    assert config == GatewayConfig(
        routes=(route_from_policy(policy(), ENDPOINTS),), admin_token_file="/run/token"
    )


def test_names_the_endpoints_file_that_lacks_a_version(tmp_path: Path) -> None:
    directory = mount(tmp_path, policy(), {"rec-v2.0.0": "http://127.0.0.1:9001"})
    with pytest.raises(ConfigError) as error:
        config_from_mounted_policies(tmp_path)
    assert str(error.value) == (
        f"{directory / 'endpoints.json'}: no serving endpoint for version 'rec-v2.1.0'"
        " of 'recommendation-engine'"
    )


def test_rejects_an_endpoints_file_of_the_wrong_shape(tmp_path: Path) -> None:
    directory = mount(tmp_path, policy(), ["http://127.0.0.1:9001"])
    with pytest.raises(ConfigError) as error:
        config_from_mounted_policies(tmp_path)
    assert str(error.value) == (
        f'{directory / "endpoints.json"}: must be {{"<version id>": "http://host:port", ...}}'
    )


def test_names_the_field_of_an_invalid_mounted_policy(tmp_path: Path) -> None:
    directory = tmp_path / "broken"
    directory.mkdir()
    (directory / "policy.json").write_text(json.dumps({"name": "broken"}))
    with pytest.raises(ConfigError) as error:
        config_from_mounted_policies(tmp_path)
    assert str(error.value) == f"{directory / 'policy.json'}: environment: Field required"


def test_refuses_a_directory_without_deployments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        config_from_mounted_policies(tmp_path)
    assert str(error.value) == f"{tmp_path}: no deployment directories with policy.json"


def test_maps_the_debugger_capture_redaction_and_retention() -> None:
    route = route_from_policy(
        policy(
            debugger={
                "capture_rate": 0.5,
                "explainers": ["shap"],
                "capture_redact": {"user_id": "hash", "email": "drop"},
                "capture_retention": "12h",
            }
        ),
        ENDPOINTS,
    )
    assert route.capture_redact == (("email", "drop"), ("user_id", "hash"))
    assert route.capture_retention_seconds == 43_200


def test_without_a_debugger_captures_would_be_kept_one_day_and_unredacted() -> None:
    route = route_from_policy(policy(), ENDPOINTS)
    assert (route.capture_rate, route.capture_redact, route.capture_retention_seconds) == (
        0.0,
        (),
        86_400,
    )


@pytest.mark.parametrize(
    ("debugger", "message"),
    [
        (
            {"capture_redact": {"email": "mask"}},
            "debugger.capture_redact\n  capture_redact['email'] is 'mask'; allowed: drop, hash",
        ),
        (
            {"capture_redact": {"user id": "drop"}},
            "debugger.capture_redact\n  capture_redact field 'user id' is not valid: give a field"
            " name of 1 to 256 characters without spaces",
        ),
        (
            {"capture_retention": 0},
            "debugger.capture_retention\n  duration 0 is not valid: give seconds above 0, or"
            " e.g. '30m'",
        ),
    ],
)
def test_a_bad_capture_privacy_setting_names_the_field(
    debugger: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        policy(debugger={"capture_rate": 0.5, "explainers": ["shap"], **debugger})
    assert message in str(error.value)
