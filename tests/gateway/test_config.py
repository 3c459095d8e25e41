"""Reading GatewayConfig from JSON: defaults, and errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tfprod.runtime.gateway import ConfigError, Endpoint, GatewayConfig, StickyKey


def config(**route: Any) -> dict[str, Any]:
    base = {
        "model": "clf",
        "variants": [
            {"name": "stable", "url": "http://127.0.0.1:8501", "weight": 0.9, "version": 1},
            {"name": "canary", "url": "http://127.0.0.1:8502", "weight": 0.1},
        ],
    }
    return {"routes": [{**base, **route}]}


def test_reads_a_route_with_defaults() -> None:
    read = GatewayConfig.from_dict(config(sticky={"source": "header", "name": "X-User"}))
    route = read.routes[0]
    assert route.variants[0].endpoint == Endpoint(
        name="stable", url="http://127.0.0.1:8501", model_name=None, version="1"
    )
    assert route.sticky == StickyKey(source="header", name="X-User")
    assert (route.capture_rate, route.shadows, route.fallback) == (0.0, (), None)
    assert (read.max_body_bytes, read.capture_queue_size, read.breaker.failure_threshold) == (
        1 << 20, 10_000, 5,
    )  # fmt: skip
    assert route.variants[0].endpoint.model_path("clf") == "/v1/models/clf/versions/1"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "config: must be an object, got []"),
        ({"routes": []}, "routes: must be a non-empty list, got []"),
        ({**config(), "colour": 1}, "colour: unknown field; allowed: admin_token_env,"
         " admin_token_file, breaker, capture_queue_size, explainer_url, feedback_window,"
         " max_body_bytes, routes, seed, shadow_max_in_flight, shadow_timeout_seconds,"
         " upstream_connections, upstream_timeout_seconds"),
        ({**config(), "explainer_url": "http://explainer:8082/"},
         "explainer_url: must be http(s)://host:port without a trailing slash, got"
         " 'http://explainer:8082/'"),
        (config(capture_rate=1.5), "routes[0].capture_rate: must be a number in [0, 1], got 1.5"),
        (config(sticky={"source": "query", "name": "u"}),
         "routes[0].sticky.source: must be one of header, cookie, field, got 'query'"),
        (config(variants=[{"name": "a", "url": "http://h:1/", "weight": 1}]),
         "routes[0].variants[0].url: must be http(s)://host:port without a trailing slash,"
         " got 'http://h:1/'"),
        (config(variants=[{"name": "a", "url": "http://h:1", "weight": True}]),
         "routes[0].variants[0].weight: must be a number in [0, 1], got True"),
        (config(variants=[{"name": "a", "url": "http://h:1", "weight": 0}]),
         "routes[0].variants: weights must not all be 0"),
        (config(fallback={"name": "stable", "url": "http://h:1"}),
         "routes[0]: endpoint name 'stable' is used more than once"),
        (config(variants=[{"name": "a", "url": "http://h:1", "version": "v2"}]),
         "routes[0].variants[0].version: must be a version number, got 'v2'"),
        ({**config(), "capture_queue_size": 0},
         "capture_queue_size: must be an integer >= 1, got 0"),
        ({**config(), "admin_token_env": "A", "admin_token_file": "/t"},
         "admin_token_env, admin_token_file: give one token source, not both"),
        ({"routes": [config()["routes"][0]] * 2}, "routes: model 'clf' has more than one route"),
    ],
)  # fmt: skip
def test_invalid_configs_name_the_field_and_the_value(document: object, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        GatewayConfig.from_dict(document)
    assert str(error.value) == message


def test_the_admin_token_comes_from_the_named_variable_or_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GW_TOKEN", "s3cret")
    assert GatewayConfig.from_dict({**config(), "admin_token_env": "GW_TOKEN"}).admin_token() == (
        "s3cret"
    )
    (tmp_path / "token").write_text("from-file\n")
    from_file = {**config(), "admin_token_file": str(tmp_path / "token")}
    assert GatewayConfig.from_dict(from_file).admin_token() == "from-file"
    monkeypatch.delenv("GW_TOKEN")
    with pytest.raises(ConfigError) as error:
        GatewayConfig.from_dict({**config(), "admin_token_env": "GW_TOKEN"}).admin_token()
    assert str(error.value) == "admin_token_env: environment variable GW_TOKEN is not set"
    assert GatewayConfig.from_dict(config()).admin_token() is None
