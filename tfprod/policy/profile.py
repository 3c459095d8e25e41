"""Reference profile of a model's training data: what drift detection later compares
live traffic against.

Numeric features (integer and float columns) keep quantiles and an equal-width histogram over
the observed range; categorical features (strings, booleans, other objects) keep the relative
frequency of each category. Missing values (NaN, infinities, None) are counted apart and left
out of the statistics. Asked for (`drift_edges`), a numeric feature also keeps that many
reference quantiles as bin edges and the fraction of values at or below each (ties make it
differ from the level), which `tfprod.runtime.drift` bins live windows with. A profile may
also describe the model's predictions on the reference data (`outputs`), for output drift.
The profile is plain JSON (`to_json` / `from_json`) so it can be stored
next to the model and read by code that has no numpy.

Here in `tfprod.policy` because both sides compute or read it: `DriftDetector` profiles the
data it is given at synth and ships the document in a ConfigMap, `Registry.register` stores one
with a version, and the gateway's drift monitor reads either. Only this module needs numpy.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

import numpy as np

PROFILE_FORMAT = 1
DEFAULT_QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
DRIFT_EDGES = 499
"""Reference quantiles kept per numeric feature for `tfprod.runtime.drift` (PSI deciles are
every 50th)."""


@dataclass(frozen=True, kw_only=True)
class NumericFeature:
    """Distribution of one numeric feature over its `count` present values."""

    count: int
    missing: int
    mean: float
    std: float
    quantile_levels: tuple[float, ...]
    quantile_values: tuple[float, ...]
    bin_edges: tuple[float, ...]
    """`len(bin_counts) + 1` increasing edges; the last bin includes its right edge."""
    bin_counts: tuple[int, ...]
    drift_edges: tuple[float, ...] = ()
    """Reference quantiles at levels k / (len + 1), k = 1..len. Default: none kept."""
    drift_cdf: tuple[float, ...] = ()
    """Fraction of present values at or below each of `drift_edges`."""


@dataclass(frozen=True, kw_only=True)
class CategoricalFeature:
    """Relative frequency of each category among the `count` present values."""

    count: int
    missing: int
    frequencies: Mapping[str, float]
    """The most frequent categories (at most `max_categories`), as fractions of `count`."""
    other: float
    """Fraction of present values whose category is not listed in `frequencies`."""


Feature = NumericFeature | CategoricalFeature


class DataFrameLike(Protocol):
    """What a pandas DataFrame offers that profiling uses (pandas is not a dependency)."""

    @property
    def columns(self) -> Iterable[Any]: ...

    def __getitem__(self, key: Any, /) -> Any: ...


ReferenceData = (
    np.ndarray[Any, Any] | Mapping[str, Sequence[Any] | np.ndarray[Any, Any]] | DataFrameLike
)
"""Data `build_profile` takes: a 2-D array, a mapping of columns, or a pandas DataFrame."""


@dataclass(frozen=True, kw_only=True)
class ReferenceProfile:
    rows: int
    features: Mapping[str, Feature]
    outputs: Mapping[str, Feature] = field(default_factory=dict)
    """The model's predictions on the reference data, per output column. Default: none."""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format": PROFILE_FORMAT,
            "rows": self.rows,
            "features": _features_json(self.features),
        }
        if self.outputs:
            document["outputs"] = _features_json(self.outputs)
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ReferenceProfile:
        if document.get("format") != PROFILE_FORMAT:
            raise ValueError(
                f"reference profile format {document.get('format')!r} is not supported; "
                f"expected {PROFILE_FORMAT}"
            )
        return cls(
            rows=document["rows"],
            features=_features_from_json(document["features"]),
            outputs=_features_from_json(document.get("outputs", {})),
        )


def profile_text(profile: ReferenceProfile) -> str:
    """The profile as one line of JSON with a final newline, as shipped in a ConfigMap."""
    return json.dumps(profile.to_json(), separators=(",", ":"), allow_nan=False) + "\n"


def _features_json(items: Mapping[str, Feature]) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for name, feature in items.items():
        if isinstance(feature, NumericFeature):
            features[name] = {
                "kind": "numeric",
                "count": feature.count,
                "missing": feature.missing,
                "mean": feature.mean,
                "std": feature.std,
                "quantiles": {
                    "levels": list(feature.quantile_levels),
                    "values": list(feature.quantile_values),
                },
                "histogram": {
                    "edges": list(feature.bin_edges),
                    "counts": list(feature.bin_counts),
                },
            }
            if feature.drift_edges:
                features[name]["drift_bins"] = {
                    "edges": list(feature.drift_edges),
                    "cdf": list(feature.drift_cdf),
                }
        else:
            features[name] = {
                "kind": "categorical",
                "count": feature.count,
                "missing": feature.missing,
                "frequencies": dict(feature.frequencies),
                "other": feature.other,
            }
    return features


def _features_from_json(items: Mapping[str, Any]) -> dict[str, Feature]:
    features: dict[str, Feature] = {}
    for name, item in items.items():
        if item["kind"] == "numeric":
            drift_bins = item.get("drift_bins", {"edges": [], "cdf": []})
            features[name] = NumericFeature(
                count=item["count"],
                missing=item["missing"],
                mean=item["mean"],
                std=item["std"],
                quantile_levels=tuple(item["quantiles"]["levels"]),
                quantile_values=tuple(item["quantiles"]["values"]),
                bin_edges=tuple(item["histogram"]["edges"]),
                bin_counts=tuple(item["histogram"]["counts"]),
                drift_edges=tuple(drift_bins["edges"]),
                drift_cdf=tuple(drift_bins["cdf"]),
            )
        else:
            features[name] = CategoricalFeature(
                count=item["count"],
                missing=item["missing"],
                frequencies=dict(item["frequencies"]),
                other=item["other"],
            )
    return features


def build_profile(
    data: ReferenceData,
    *,
    feature_names: Sequence[str] | None = None,
    bins: int = 10,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    max_categories: int = 50,
    drift_edges: int = 0,
    predictions: np.ndarray[Any, Any]
    | Mapping[str, Sequence[Any] | np.ndarray[Any, Any]]
    | None = None,
) -> ReferenceProfile:
    """Profiles `data`: a 2-D array (rows x features; columns named by `feature_names`, or
    `f0`, `f1`, ... when it is left out), a mapping of column name to equally long columns, or
    a pandas DataFrame (its columns by name).

    `drift_edges` (default 0: none) reference quantiles are kept per numeric feature for drift
    binning. `predictions` (default None: no output profile), the model's answers on `data`
    (a 1-D array, a 2-D array with columns named `0`, `1`, ..., or a mapping), are profiled
    as `outputs` the same way."""
    if drift_edges < 0:
        raise ValueError(f"drift_edges must be 0 or more, got {drift_edges}")
    outputs: dict[str, Feature] = {}
    if predictions is not None:
        if not isinstance(predictions, Mapping):
            answers = np.asarray(predictions)
            answers = answers.reshape(len(answers), -1)
            predictions = {str(index): answers[:, index] for index in range(answers.shape[1])}
        outputs = dict(
            build_profile(
                predictions, bins=bins, quantiles=quantiles, max_categories=max_categories,
                drift_edges=drift_edges,
            ).features
        )  # fmt: skip
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    if not all(0.0 <= level <= 1.0 for level in quantiles):
        raise ValueError(f"quantiles must lie in [0, 1], got {list(quantiles)}")
    columns = _columns(data, feature_names)
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns must have the same length, got {lengths}")
    rows = next(iter(lengths.values()))
    if rows == 0:
        raise ValueError("cannot profile data with no rows")
    features: dict[str, Feature] = {}
    for name, column in columns.items():
        if column.dtype.kind in "iuf":
            features[name] = _numeric(name, column.astype("float64"), bins, quantiles, drift_edges)
        else:
            features[name] = _categorical(column, max_categories)
    return ReferenceProfile(rows=rows, features=features, outputs=outputs)


def _columns(
    data: ReferenceData,
    feature_names: Sequence[str] | None,
) -> dict[str, np.ndarray[Any, Any]]:
    if _is_data_frame(data):
        if feature_names is not None:
            raise ValueError("feature_names applies to a 2-D array; a DataFrame names its columns")
        data = {str(name): np.asarray(data[name]) for name in data.columns}
    if isinstance(data, Mapping):
        if feature_names is not None:
            raise ValueError("feature_names applies to a 2-D array; a mapping names its columns")
        if not data:
            raise ValueError("cannot profile data with no columns")
        return {str(name): np.asarray(column) for name, column in data.items()}
    array = np.asarray(data)
    if array.ndim != 2:
        raise ValueError(
            f"data must be a 2-D array (rows x features) or a mapping of columns, "
            f"got an array of shape {array.shape}"
        )
    names = list(feature_names) if feature_names is not None else None
    if names is None:
        names = [f"f{index}" for index in range(array.shape[1])]
    if len(names) != array.shape[1] or len(set(names)) != len(names):
        raise ValueError(
            f"feature_names must name each of the {array.shape[1]} columns once, got {names}"
        )
    return {name: array[:, index] for index, name in enumerate(names)}


def _is_data_frame(data: object) -> TypeGuard[DataFrameLike]:
    """Whether `data` is a pandas DataFrame, without importing pandas (an optional package)."""
    return type(data).__module__.partition(".")[0] == "pandas" and hasattr(data, "columns")


def _numeric(
    name: str,
    column: np.ndarray[Any, Any],
    bins: int,
    quantiles: Sequence[float],
    drift_edges: int,
) -> NumericFeature:
    present = np.sort(column[np.isfinite(column)])
    if present.size == 0:
        raise ValueError(f"feature {name!r} has no finite values to profile")
    counts, edges = np.histogram(present, bins=bins)
    levels = tuple(float(level) for level in quantiles)
    edges_at = np.quantile(present, np.arange(1, drift_edges + 1) / (drift_edges + 1))
    return NumericFeature(
        count=int(present.size),
        missing=int(column.size - present.size),
        mean=float(present.mean()),
        std=float(present.std()),
        quantile_levels=levels,
        quantile_values=tuple(float(value) for value in np.quantile(present, levels)),
        bin_edges=tuple(float(edge) for edge in edges),
        bin_counts=tuple(int(count) for count in counts),
        drift_edges=tuple(edges_at.tolist()),
        drift_cdf=tuple((np.searchsorted(present, edges_at, side="right") / present.size).tolist()),
    )


def _categorical(column: np.ndarray[Any, Any], max_categories: int) -> CategoricalFeature:
    present = [
        str(value)
        for value in column.tolist()
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    ]
    counts = Counter(present)
    total = len(present)
    top = counts.most_common(max_categories)
    listed = sum(count for _, count in top)
    return CategoricalFeature(
        count=total,
        missing=len(column) - total,
        frequencies={category: count / total for category, count in top} if total else {},
        other=(total - listed) / total if total else 0.0,
    )
