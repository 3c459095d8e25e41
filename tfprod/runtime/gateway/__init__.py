"""The gateway: weighted and sticky routing, shadows, capture, feedback, metrics, admin."""

from tfprod.runtime.gateway.app import Gateway
from tfprod.runtime.gateway.config import (
    BreakerConfig,
    ConfigError,
    Endpoint,
    GatewayConfig,
    Route,
    Shadow,
    StickyKey,
    Variant,
)
from tfprod.runtime.gateway.server import serve

__all__ = [
    "BreakerConfig",
    "ConfigError",
    "Endpoint",
    "Gateway",
    "GatewayConfig",
    "Route",
    "Shadow",
    "StickyKey",
    "Variant",
    "serve",
]
