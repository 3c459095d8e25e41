"""The web dashboard the controller serves at `/dashboard/`, and the observations it shows."""

from tfprod.runtime.dashboard.explanations import GatewayExplanations
from tfprod.runtime.dashboard.observed import FeatureDrift, ObservationLog, Observed, quantile
from tfprod.runtime.dashboard.routes import add_dashboard, static_files
from tfprod.runtime.dashboard.sources import drift_of, recorded_gateways, recorded_prometheus

__all__ = [
    "FeatureDrift",
    "GatewayExplanations",
    "ObservationLog",
    "Observed",
    "add_dashboard",
    "drift_of",
    "quantile",
    "recorded_gateways",
    "recorded_prometheus",
    "static_files",
]
