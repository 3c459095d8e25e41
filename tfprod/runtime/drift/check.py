"""Drift checks of a window of live values against a reference profile, vectorized.

A `DriftReference` is fitted once from a `ReferenceProfile` (`drift_edges` kept per numeric
feature; `DRIFT_EDGES` = 499 by default): the reference quantile edges and the fraction of
reference values at or below each. A check of a window (features x rows, float64: numeric
values, or category codes from `DriftReference.encode`) then costs one `np.sort` of the
numeric rows and a `searchsorted` of each feature's edges into its sorted row:

- numeric: PSI on reference deciles (every 50th of the 499 edges) and a binned KS distance
  (the largest gap between the reference and window CDFs at the edges; exact KS looks at
  every value, the edges are within 1/500 of the reference mass of it), with the asymptotic
  KS p-value for sizes n (reference) and m (window);
- categorical: PSI and Jensen-Shannon on the reference categories (plus "other", where the
  categories the reference does not list, unseen ones included, land) and the chi-squared
  test of homogeneity of the reference and window counts.

p-values are Holm-adjusted across the features of one check: a feature is flagged when its
adjusted p-value is below `alpha`, so on unshifted data the chance that a window flags any
feature stays at `alpha`. The score of a feature is its PSI (the Policy's method, and what its
threshold and the controller's `drift_score` triggers compare); the overall score is the
largest. Missing values (NaN, infinities) are left out of a window's statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfprod.policy.profile import (
    DRIFT_EDGES,
    CategoricalFeature,
    Feature,
    NumericFeature,
)
from tfprod.runtime.drift.stats import Array, chi2_sf, holm, jensen_shannon, ks_sf, psi

DECILE_STEP = 50
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    """One feature's drift in one window. `ks` is set for numeric features, `js` for
    categorical ones; `p_value` is the KS or chi-squared test's, `adjusted_p` Holm's."""

    name: str
    kind: str
    rows: int
    psi: float
    p_value: float
    adjusted_p: float
    drifted: bool
    ks: float | None = None
    js: float | None = None


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    """A check's features (in reference order; a feature the window has no value of is left
    out) and the overall score, the largest PSI (0 with no feature)."""

    features: tuple[FeatureDrift, ...]
    alpha: float

    @property
    def score(self) -> float:
        return max((item.psi for item in self.features), default=0.0)

    @property
    def drifted(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.features if item.drifted)


class DriftReference:
    """The fitted reference of a set of features (a profile's inputs, or its outputs)."""

    def __init__(self, features: Mapping[str, Feature], *, alpha: float = DEFAULT_ALPHA) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        if not features:
            raise ValueError("a drift reference needs at least one feature")
        self.alpha = alpha
        self.names = tuple(features)
        numeric = {n: f for n, f in features.items() if isinstance(f, NumericFeature)}
        categorical = {n: f for n, f in features.items() if isinstance(f, CategoricalFeature)}
        for name, feature in numeric.items():
            if len(feature.drift_edges) != DRIFT_EDGES:
                raise ValueError(
                    f"feature {name!r}: the profile keeps {len(feature.drift_edges)} drift edges,"
                    f" {DRIFT_EDGES} are needed (build_profile(..., drift_edges={DRIFT_EDGES}))"
                )
        self.numeric_index = np.array([self.names.index(n) for n in numeric], dtype="intp")
        self.edges = np.array([f.drift_edges for f in numeric.values()], dtype="float64")
        self.edges = self.edges.reshape(len(numeric), DRIFT_EDGES)
        cdf = np.array([f.drift_cdf for f in numeric.values()], dtype="float64")
        self.cdf = cdf.reshape(len(numeric), DRIFT_EDGES)
        self.numeric_count = np.array([f.count for f in numeric.values()], dtype="float64")
        deciles = self.cdf[:, DECILE_STEP - 1 :: DECILE_STEP]
        self.decile_mass = _mass(deciles)
        self.categorical_index = np.array([self.names.index(n) for n in categorical], dtype="intp")
        self.categories = {
            name: {category: code for code, category in enumerate(feature.frequencies)}
            for name, feature in categorical.items()
        }
        self.category_mass = [
            np.array([*f.frequencies.values(), f.other], dtype="float64")
            for f in categorical.values()
        ]
        self.category_count = [float(f.count) for f in categorical.values()]
        self.numeric = not categorical
        """Whether every feature is numeric (no category codes to look up)."""

    @classmethod
    def fit(
        cls,
        data: np.ndarray[Any, Any] | Mapping[str, Sequence[Any] | np.ndarray[Any, Any]],
        *,
        feature_names: Sequence[str] | None = None,
        alpha: float = DEFAULT_ALPHA,
    ) -> DriftReference:
        """Profiles `data` (see `build_profile`) and fits the reference of its features."""
        from tfprod.policy.profile import build_profile

        profile = build_profile(data, feature_names=feature_names, drift_edges=DRIFT_EDGES)
        return cls(profile.features, alpha=alpha)

    def encode(self, name: str, value: Any) -> float:
        """The window value of one live value of feature `name`: the number itself for a
        numeric feature (NaN when it is not a number), the category's code for a categorical
        one (an unlisted category codes as "other"; None and NaN as missing)."""
        codes = self.categories.get(name)
        if codes is None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return float("nan")
            return float(value)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return float("nan")
        return float(codes.get(str(value), len(codes)))

    def check(self, window: Array) -> DriftReport:
        """Compares `window` (features x rows, in `names` order) with the reference."""
        if window.ndim != 2 or window.shape[0] != len(self.names):
            raise ValueError(
                f"window must have shape ({len(self.names)}, rows), got {window.shape}"
            )
        results: dict[int, tuple[str, float, float, float | None, float | None, int]] = {}
        if self.numeric_index.size:
            first, count = int(self.numeric_index[0]), self.numeric_index.size
            contiguous = self.numeric_index[-1] - first + 1 == count
            numeric = window[first : first + count] if contiguous else window[self.numeric_index]
            self._numeric(numeric, results)
        for position, index in enumerate(self.categorical_index.tolist()):
            self._categorical(position, window[index], results)
        order = sorted(results)
        adjusted = holm(np.array([results[i][2] for i in order], dtype="float64"))
        features = tuple(
            FeatureDrift(
                name=self.names[index],
                kind=results[index][0],
                rows=results[index][5],
                psi=results[index][1],
                p_value=results[index][2],
                adjusted_p=float(adjusted[position]),
                drifted=bool(adjusted[position] < self.alpha),
                ks=results[index][3],
                js=results[index][4],
            )
            for position, index in enumerate(order)
        )
        return DriftReport(features=features, alpha=self.alpha)

    def _numeric(
        self,
        values: Array,
        results: dict[int, tuple[str, float, float, float | None, float | None, int]],
    ) -> None:
        finite = np.isfinite(values)
        rows = finite.sum(axis=1)
        # One copy, sorted in place; NaN (where a value was missing) sorts last.
        ordered = values.copy() if rows.sum() == values.size else np.where(finite, values, np.nan)
        ordered.sort(axis=1)
        below = np.empty(self.edges.shape, dtype="float64")
        for feature in range(ordered.shape[0]):
            below[feature] = np.searchsorted(ordered[feature], self.edges[feature], "right")
        with np.errstate(divide="ignore", invalid="ignore"):
            window_cdf = below / rows[:, None]
        ks = np.abs(window_cdf - self.cdf).max(axis=1)
        scores = psi(self.decile_mass, _mass(window_cdf[:, DECILE_STEP - 1 :: DECILE_STEP]))
        effective = self.numeric_count * rows / (self.numeric_count + rows)
        p_values = ks_sf(ks, np.maximum(effective, 1e-12))
        for position, index in enumerate(self.numeric_index.tolist()):
            if rows[position]:
                results[index] = (
                    "numeric", float(scores[position]), float(p_values[position]),
                    float(ks[position]), None, int(rows[position]),
                )  # fmt: skip

    def _categorical(
        self,
        position: int,
        codes: Array,
        results: dict[int, tuple[str, float, float, float | None, float | None, int]],
    ) -> None:
        present = codes[~np.isnan(codes)]
        if not present.size:
            return
        reference = self.category_mass[position]
        counts = np.bincount(present.astype("intp"), minlength=reference.size)[: reference.size]
        window = counts / present.size
        reference_counts = reference * self.category_count[position]
        table = np.stack([reference_counts, counts.astype("float64")])
        table = table[:, table.sum(axis=0) > 0]
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
        statistic = float(np.sum(np.square(table - expected) / expected))
        p_value = chi2_sf(statistic, table.shape[1] - 1) if table.shape[1] > 1 else 1.0
        index = int(self.categorical_index[position])
        results[index] = (
            "categorical", float(psi(reference, window)), p_value, None,
            float(jensen_shannon(reference, window)), int(present.size),
        )  # fmt: skip


def _mass(cdf: Array) -> Array:
    """Bin proportions from a CDF at interior edges (rows: features)."""
    zeros = np.zeros((cdf.shape[0], 1))
    ones = np.ones((cdf.shape[0], 1))
    result: Array = np.diff(np.concatenate([zeros, cdf, ones], axis=1), axis=1)
    return result
