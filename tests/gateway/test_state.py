"""RouteState: one object per deployment, rebuilt on a policy reload without losing state."""

from __future__ import annotations

from dataclasses import replace

from tfprod.runtime.gateway import Endpoint, GatewayConfig, Route, Variant
from tfprod.runtime.gateway.config import BreakerConfig
from tfprod.runtime.gateway.state import RouteState

STABLE = Endpoint(name="stable", url="http://127.0.0.1:9001")
CANARY = Endpoint(name="canary", url="http://127.0.0.1:9002")
ROUTE = Route(
    model="clf",
    variants=(Variant(endpoint=STABLE, weight=0.9), Variant(endpoint=CANARY, weight=0.1)),
    fallback=STABLE,
    labels=(("stable", "stable"), ("canary", "canary")),
)


def test_a_fallback_that_is_a_variant_shares_its_upstream_and_breaker() -> None:
    state = RouteState.build(ROUTE, BreakerConfig())
    assert sorted(state.breakers) == ["canary", "stable"]
    assert state.snapshot()["fallback"] == "stable"
    config = GatewayConfig.from_dict(
        {
            "routes": [
                {
                    "model": "clf",
                    "variants": [{"name": "stable", "url": STABLE.url, "weight": 1}],
                    "fallback": {"name": "stable", "url": STABLE.url},
                }
            ]
        }
    )
    assert config.routes[0].fallback == config.routes[0].variants[0].endpoint


def test_a_rebuilt_route_keeps_the_breakers_of_unchanged_upstreams_only() -> None:
    before = RouteState.build(ROUTE, BreakerConfig())
    moved = replace(CANARY, url="http://127.0.0.1:9003")
    after = RouteState.build(
        replace(ROUTE, variants=(ROUTE.variants[0], Variant(endpoint=moved, weight=0.1))),
        BreakerConfig(),
        before,
    )
    assert after.breakers["stable"] is before.breakers["stable"]
    assert after.breakers["canary"] is not before.breakers["canary"]


def test_weights_are_shown_in_percent_and_labels_resolve_to_variants() -> None:
    state = RouteState.build(ROUTE, BreakerConfig())
    state.table = state.with_percent({"stable": 25, "canary": 75})
    assert state.percent() == {"stable": 25.0, "canary": 75.0}
    assert [state.label_target(label) for label in ("canary", "stable", "gold")] == [
        "canary",
        "stable",
        None,
    ]
    assert state.labels() == ["canary", "stable"]
