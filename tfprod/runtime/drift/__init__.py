"""Drift of live inputs and predictions against a reference profile, in numpy alone."""

from tfprod.policy.profile import DRIFT_EDGES
from tfprod.runtime.drift.check import (
    DEFAULT_ALPHA,
    DriftReference,
    DriftReport,
    FeatureDrift,
)
from tfprod.runtime.drift.source import ProfileSourceError, load_profile
from tfprod.runtime.drift.stats import chi2_sf, holm, jensen_shannon, ks_sf, psi
from tfprod.runtime.drift.window import Window

__all__ = [
    "DEFAULT_ALPHA",
    "DRIFT_EDGES",
    "DriftReference",
    "DriftReport",
    "FeatureDrift",
    "ProfileSourceError",
    "Window",
    "chi2_sf",
    "holm",
    "jensen_shannon",
    "ks_sf",
    "load_profile",
    "psi",
]
