"""The statistics drift checks need, in numpy and `math` alone (no scipy in the runtime).

- `chi2_sf`: the chi-squared survival function, as the regularized upper incomplete gamma
  function Q(df/2, x/2): its power series below a + 1, Lentz's continued fraction above.
- `ks_sf`: the asymptotic two-sample Kolmogorov-Smirnov p-value of a distance, with Stephens'
  small-sample correction of the effective size (Numerical Recipes' `probks`).
- `holm`: Holm-Bonferroni adjusted p-values, which keep the family-wise error rate (the chance
  that any unshifted feature is flagged) at the level they are compared with.
- `psi`, `jensen_shannon`: distances between binned distributions, one row per feature.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PSI_EPSILON = 1e-4
"""Proportions are clipped to at least this before PSI's logarithm (empty bins)."""

_ITERATIONS = 500
_TOLERANCE = 1e-14
_TINY = 1e-300

Array = np.ndarray[Any, np.dtype[np.float64]]


def chi2_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X chi-squared with `df` degrees of freedom (at least 1)."""
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df}")
    if statistic <= 0:
        return 1.0
    return _upper_gamma(df / 2.0, statistic / 2.0)


def _upper_gamma(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a)."""
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        denominator = a
        for _ in range(_ITERATIONS):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * _TOLERANCE:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _TOLERANCE:
            break
    return min(1.0, math.exp(log_prefix) * h)


_K = np.arange(1, 101, dtype="float64")
_SIGNS = np.where(_K % 2 == 1, 2.0, -2.0)


def ks_sf(distance: Array, effective_size: Array) -> Array:
    """Asymptotic p-values of two-sample KS distances; `effective_size` is n*m/(n+m)."""
    root = np.sqrt(effective_size)
    lam = (root + 0.12 + 0.11 / root) * distance
    terms = _SIGNS * np.exp(-2.0 * np.square(_K) * np.square(lam)[..., None])
    p = np.clip(terms.sum(axis=-1), 0.0, 1.0)
    # The alternating series does not converge for tiny lambda, where p is 1.
    return np.where(lam < 0.2, 1.0, p)


def holm(p_values: Array) -> Array:
    """Holm-Bonferroni adjusted p-values (same order as given; NaN entries stay NaN and do
    not count towards the number of tests)."""
    p = np.asarray(p_values, dtype="float64")
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    scaled = np.minimum(1.0, p[order] * (m - np.arange(m)))
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def psi(reference: Array, window: Array) -> Array:
    """Population stability index of each row's bin proportions (rows: features)."""
    r = np.maximum(reference, PSI_EPSILON)
    w = np.maximum(window, PSI_EPSILON)
    result: Array = np.sum((w - r) * np.log(w / r), axis=-1)
    return result


def jensen_shannon(reference: Array, window: Array) -> Array:
    """Jensen-Shannon divergence in bits (0: same, 1: disjoint) of each row's proportions."""
    middle = (reference + window) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(reference > 0, reference * np.log2(reference / middle), 0.0)
        right = np.where(window > 0, window * np.log2(window / middle), 0.0)
    result: Array = 0.5 * (left.sum(axis=-1) + right.sum(axis=-1))
    return result
