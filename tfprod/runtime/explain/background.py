"""Background data for LIME and SHAP, and the integrated gradients' baseline.

In order of preference: the registry's reference profile of the version (rows drawn from each
feature's stored quantiles), else the rows captured from live traffic so far, else one row of
zeros. Every result says which (`Background.source`).

A profile is used when each explained feature is a numeric feature of it, matched by name, or,
when the profile names none of them (a 2-D array registered without names is profiled as
`f0`, `f1`, ...), by position when it has exactly as many numeric features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tfprod.runtime.explain.model import Array
from tfprod.runtime.registry import NumericFeature, ReferenceProfile

Source = Literal["reference_profile", "captured", "zeros", "given"]
PROFILE_ROWS = 100
"""Rows drawn from a reference profile."""
_SEED = 0


@dataclass(frozen=True, kw_only=True)
class Background:
    rows: Array
    """Rows x features; at least one row."""
    source: Source

    @property
    def mean(self) -> Array:
        """The mean row: the integrated gradients' baseline (zeros for a zeros background)."""
        mean: Array = np.asarray(self.rows.mean(axis=0), dtype="float64")
        return mean

    def sample(self, count: int) -> Array:
        """At most `count` of the rows, evenly spaced (all of them when there are fewer)."""
        if len(self.rows) <= count:
            return self.rows
        chosen: Array = self.rows[np.linspace(0, len(self.rows) - 1, count).astype(int)]
        return chosen


def zero_background(features: int) -> Background:
    return Background(rows=np.zeros((1, features)), source="zeros")


def profile_background(profile: ReferenceProfile, names: Sequence[str]) -> Background | None:
    """Rows drawn from `profile`'s quantiles of `names`, or None when it lacks them."""
    numeric = {
        name: feature
        for name, feature in profile.features.items()
        if isinstance(feature, NumericFeature)
    }
    if all(name in numeric for name in names):
        chosen = [numeric[name] for name in names]
    elif not any(name in profile.features for name in names) and len(numeric) == len(
        profile.features
    ) == len(names):
        chosen = list(numeric.values())
    else:
        return None
    levels = (np.arange(PROFILE_ROWS) + 0.5) / PROFILE_ROWS
    rng = np.random.default_rng(_SEED)
    columns = [rng.permutation(_inverse_cdf(feature, levels)) for feature in chosen]
    return Background(rows=np.column_stack(columns), source="reference_profile")


def _inverse_cdf(feature: NumericFeature, levels: Array) -> Array:
    if feature.drift_edges:
        known_levels = np.asarray(feature.drift_cdf)
        values = np.asarray(feature.drift_edges)
    else:
        known_levels = np.asarray(feature.quantile_levels)
        values = np.asarray(feature.quantile_values)
    return np.asarray(np.interp(levels, known_levels, values), dtype="float64")


def captured_background(rows: Sequence[Array]) -> Background | None:
    """The captured rows (each rows x features), or None when there are none."""
    if not rows:
        return None
    return Background(rows=np.concatenate(list(rows)), source="captured")
