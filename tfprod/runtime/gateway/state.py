"""What the gateway holds for one deployment, in one object: route, weights, breakers, status.

The hot path reads `RouteState.table` (an immutable `RoutingTable`) and swaps it whole, so a
weight change is one attribute assignment: requests already routed keep their upstream, the
next one sees the new weights. The admin API reads only `snapshot()`.

Weights arrive in percent (the Policy's and the status document's unit) and are held as
fractions in the table; `generation` is the status document generation being served (0: the
declared weights, no status document seen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tfprod.runtime.gateway.breaker import Breaker
from tfprod.runtime.gateway.config import BreakerConfig, Endpoint, Route
from tfprod.runtime.gateway.routing import RoutingTable


@dataclass(kw_only=True)
class RouteState:
    """One deployment's live state. `versions` maps a TF Serving version number to the variant
    whose upstream serves it, as configured or as the upstreams' status reports it."""

    route: Route
    table: RoutingTable
    endpoints: dict[str, Endpoint]
    breakers: dict[str, Breaker]
    generation: int = 0
    status_writer: str | None = None
    status_problem: str | None = None
    policy_problem: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    versions_checked: float = float("-inf")

    @classmethod
    def build(
        cls, route: Route, breaker: BreakerConfig, previous: RouteState | None = None
    ) -> RouteState:
        """The state of `route` with its declared weights; breakers of endpoints that kept
        their name and upstream carry over from `previous` (a policy reload)."""
        kept = {} if previous is None else previous.breakers
        breakers = {}
        for endpoint in _upstreams(route):
            old = None if previous is None else previous.endpoints.get(endpoint.name)
            breakers[endpoint.name] = (
                kept[endpoint.name]
                if old == endpoint and endpoint.name in kept
                else Breaker(threshold=breaker.failure_threshold, open_seconds=breaker.open_seconds)
            )
        versions = {
            v.endpoint.version: v.endpoint.name
            for v in route.variants
            if v.endpoint.version is not None
        }
        return cls(
            route=route,
            table=declared_table(route),
            endpoints={endpoint.name: endpoint for endpoint in _upstreams(route)},
            breakers=breakers,
            versions=versions,
        )

    @property
    def names(self) -> tuple[str, ...]:
        return self.table.names

    def variant(self, name: str) -> Endpoint:
        """The endpoint of the variant (or fallback) called `name`: tables name only those."""
        return self.endpoints[name]

    def percent(self) -> dict[str, float]:
        """The current weights in percent, by variant (rounded to 1e-9 for display)."""
        return {
            name: round(weight * 100, 9)
            for name, weight in zip(self.table.names, self.table.weights, strict=True)
        }

    def with_percent(self, weights: dict[str, float]) -> RoutingTable:
        """A table for `weights` in percent naming exactly this route's variants."""
        return self.table.with_weights({name: weight / 100 for name, weight in weights.items()})

    def label_target(self, label: str) -> str | None:
        """The variant a `/labels/L` path means: a variant's own name or a route label."""
        if label in self.table.names:
            return label
        return dict(self.route.labels).get(label)

    def labels(self) -> list[str]:
        return sorted({*self.table.names, *(label for label, _ in self.route.labels)})

    def snapshot(self) -> dict[str, Any]:
        """The admin API's view: weights in percent, status generation, breakers, shadows."""
        route = self.route
        return {
            "weights": self.percent(),
            "generation": self.generation,
            "status_writer": self.status_writer,
            "status_problem": self.status_problem,
            "policy_problem": self.policy_problem,
            "policy_digest": route.policy_digest,
            "labels": dict(route.labels),
            "versions": dict(sorted(self.versions.items(), key=lambda item: int(item[0]))),
            "sticky": None
            if route.sticky is None
            else {"source": route.sticky.source, "name": route.sticky.name},
            "shadows": {s.endpoint.name: s.fraction for s in route.shadows},
            "fallback": None if route.fallback is None else route.fallback.name,
            "capture_rate": route.capture_rate,
            "confidence_rate": route.confidence_rate,
            "breakers": {name: breaker.state for name, breaker in self.breakers.items()},
        }


def declared_table(route: Route) -> RoutingTable:
    """The routing table of `route`'s declared weights."""
    return RoutingTable.build(
        [v.endpoint.name for v in route.variants], [v.weight for v in route.variants]
    )


def _upstreams(route: Route) -> list[Endpoint]:
    """The endpoints requests are answered by: variants, then the fallback if it is not one."""
    endpoints = [variant.endpoint for variant in route.variants]
    if route.fallback is not None and route.fallback not in endpoints:
        endpoints.append(route.fallback)
    return endpoints
