"""The controller's observe step: an `Observation` from Prometheus or the gateways' `/metrics`."""

from tfprod.runtime.observe.exposition import ExpositionError, Sample, parse_exposition
from tfprod.runtime.observe.gateways import GatewayScrapeSource, replica_name
from tfprod.runtime.observe.prometheus import PrometheusError, PrometheusSource, queries

__all__ = [
    "ExpositionError",
    "GatewayScrapeSource",
    "PrometheusError",
    "PrometheusSource",
    "Sample",
    "parse_exposition",
    "queries",
    "replica_name",
]
