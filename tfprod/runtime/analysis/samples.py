"""What the statistics read: cumulative counts as the gateway exports them, checked before use.

Every input is a running total since the test started (Prometheus counters), so a later look
never has fewer of anything than an earlier one; a decrease is a counter reset, which makes the
totals unusable. Counts are floats because Prometheus counters are.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Numbers = float | FloatArray


class SampleError(ValueError):
    """Counts that cannot be used: negative, not finite, inconsistent, or reset."""


@dataclass(frozen=True, kw_only=True)
class Proportion:
    """A binary metric (click, conversion, error): successes out of trials."""

    trials: float
    successes: float


@dataclass(frozen=True, kw_only=True)
class Moments:
    """A continuous metric (revenue, latency): count, sum and sum of squares of the values."""

    count: float
    total: float
    sum_of_squares: float


Sample = Proportion | Moments


@dataclass(frozen=True, kw_only=True)
class Buckets:
    """A Prometheus histogram: cumulative counts at each `le` upper bound, the last +Inf."""

    upper_bounds: tuple[float, ...]
    cumulative_counts: tuple[float, ...]

    @property
    def total(self) -> float:
        return self.cumulative_counts[-1]


def as_moments(sample: Sample) -> Moments:
    """A proportion is the mean of 0/1 values: its sum of squares is its sum."""
    if isinstance(sample, Moments):
        return sample
    return Moments(count=sample.trials, total=sample.successes, sum_of_squares=sample.successes)


def check_sample(sample: Sample, what: str) -> None:
    """Raise SampleError naming `what` and the bad value unless `sample` can be used."""
    if isinstance(sample, Proportion):
        _check_counts(what, trials=sample.trials, successes=sample.successes)
        if sample.successes > sample.trials:
            raise SampleError(
                f"{what}: successes {sample.successes:g} exceed trials {sample.trials:g}"
            )
        return
    _check_counts(what, count=sample.count, sum_of_squares=sample.sum_of_squares)
    if not math.isfinite(sample.total):
        raise SampleError(f"{what}: sum is {sample.total!r}; it must be a finite number")
    # Cauchy-Schwarz: sum^2 <= count * sum of squares for any real values (a little slack
    # for rounding in the exporter).
    if sample.total**2 > sample.count * sample.sum_of_squares * (1 + 1e-9) + 1e-12:
        raise SampleError(
            f"{what}: sum {sample.total:g} is impossible with count {sample.count:g} and sum of"
            f" squares {sample.sum_of_squares:g} (sum^2 must not exceed count * sum of squares)"
        )


def check_buckets(buckets: Buckets, what: str) -> None:
    """Raise SampleError unless `buckets` is a usable cumulative histogram."""
    bounds, counts = buckets.upper_bounds, buckets.cumulative_counts
    if len(bounds) != len(counts) or not bounds:
        raise SampleError(
            f"{what}: {len(bounds)} bucket bounds but {len(counts)} counts; they must pair up"
        )
    if bounds[-1] != math.inf:
        raise SampleError(f"{what}: the last bucket bound is {bounds[-1]:g}; it must be +Inf")
    for lower, upper in itertools.pairwise(bounds):
        if not upper > lower:
            raise SampleError(f"{what}: bucket bounds must increase: {upper:g} follows {lower:g}")
    _check_counts(
        what, **{f"bucket le={bound:g}": count for bound, count in zip(bounds, counts, strict=True)}
    )
    for bound, before, after in zip(bounds[1:], counts, counts[1:], strict=False):
        if after < before:
            raise SampleError(
                f"{what}: cumulative count {after:g} at le={bound:g} is below {before:g} of the"
                " bucket before; bucket counts must not decrease"
            )


def check_progress(previous: Moments, current: Moments, what: str) -> None:
    """Raise SampleError if a running count went down since the last look: a counter reset."""
    for name, before, after in (
        ("count", previous.count, current.count),
        ("sum of squares", previous.sum_of_squares, current.sum_of_squares),
    ):
        if after < before:
            raise SampleError(
                f"{what}: {name} went down from {before:g} to {after:g} (a counter reset);"
                " give totals since the test started"
            )


def _check_counts(what: str, **counts: float) -> None:
    for name, value in counts.items():
        if not math.isfinite(value):
            raise SampleError(f"{what}: {name} is {value!r}; it must be a finite number")
        if value < 0:
            raise SampleError(f"{what}: {name} is {value:g}; it must be 0 or more")


def mean_and_variance(count: Numbers, total: Numbers, sum_of_squares: Numbers) -> tuple[Any, Any]:
    """The mean and the (population) variance of values from their count, sum and sum of squares.

    Works elementwise on numpy arrays. The variance is clipped at 0 against rounding.
    """
    mean = np.divide(total, count)
    variance = np.maximum(np.divide(sum_of_squares, count) - mean * mean, 0.0)
    return mean, variance


def quantile(buckets: Buckets, level: float) -> float:
    """The `level` quantile (0.95 for p95) as Prometheus' `histogram_quantile` estimates it.

    Linear interpolation inside the bucket holding the rank; the first bucket starts at 0 (or
    at its bound if that is not positive); a rank in the +Inf bucket gives the highest finite
    bound, as Prometheus does. NaN for an empty histogram.
    """
    total = buckets.total
    if total == 0:
        return math.nan
    rank = level * total
    bounds, counts = buckets.upper_bounds, buckets.cumulative_counts
    index = bucket_holding(buckets, level)
    if bounds[index] == math.inf:
        return bounds[-2] if len(bounds) > 1 else math.nan
    lower_bound = bounds[index - 1] if index > 0 else min(0.0, bounds[0])
    below = counts[index - 1] if index > 0 else 0.0
    inside = counts[index] - below
    if inside == 0:
        return bounds[index]
    return lower_bound + (bounds[index] - lower_bound) * (rank - below) / inside


def bucket_holding(buckets: Buckets, level: float) -> int:
    """Index of the bucket whose upper bound first reaches the `level` quantile's rank."""
    rank = level * buckets.total
    return next(i for i, count in enumerate(buckets.cumulative_counts) if count >= rank)


def above(buckets: Buckets, index: int) -> Proportion:
    """How many observations lie above the upper bound of bucket `index`, out of all."""
    total = buckets.total
    return Proportion(trials=total, successes=total - buckets.cumulative_counts[index])


def count_above(buckets: Buckets, bound: float) -> float:
    """How many observations lie above `bound`, interpolated inside its bucket as `quantile`
    does, so "more than 5% above t" holds exactly when `quantile(buckets, 0.95) > t` (0 past
    the last finite bound, which `quantile` never exceeds)."""
    bounds, counts = buckets.upper_bounds, buckets.cumulative_counts
    total = buckets.total
    index = next((i for i, upper in enumerate(bounds) if upper >= bound), len(bounds) - 1)
    if bounds[index] == math.inf:
        return 0.0  # `quantile` never goes past the last finite bound either
    lower_bound = bounds[index - 1] if index > 0 else min(0.0, bounds[0])
    below = counts[index - 1] if index > 0 else 0.0
    if bound <= lower_bound:
        return total - below
    inside = counts[index] - below
    share = (bound - lower_bound) / (bounds[index] - lower_bound)
    return total - (below + inside * share)
