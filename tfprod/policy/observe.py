"""What is watched while a deployment runs: metrics, input drift, and captured explanations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, get_args

from pydantic import Field, field_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy._fields import Seconds
from tfprod.policy.alerts import AlertRoutes
from tfprod.policy.expressions import is_metric_name
from tfprod.policy.versions import ARTIFACT_SCHEMES

Explainer = Literal["lime", "shap", "gradients", "attention_maps"]
"""`attention_maps` (the proposal's name) is integrated gradients: tfprod's models have no
attention layers, so gradient attribution maps stand in for attention maps."""
_EXPLAINERS: tuple[str, ...] = get_args(Explainer)
Redaction = Literal["drop", "hash"]
_REDACTIONS: tuple[str, ...] = get_args(Redaction)
_FIELD_NAME = re.compile(r"[^\s]{1,256}")
DEFAULT_CAPTURE_RETENTION_SECONDS = 86_400.0
"""How long captured records are kept unless the Policy says otherwise: one day."""

FEEDBACK_RATES: Final[Mapping[str, str]] = {
    "click_rate": "click",
    "click_through_rate": "click",
    "ctr": "click",
    "conversion_rate": "conversion",
}
"""Business metrics read as the share of answered requests followed by a feedback event."""
FEEDBACK_MEANS: Final[Mapping[str, str]] = {"revenue_per_request": "revenue"}
"""Business metrics read as the mean feedback value per answered request."""
MONITOR_METRICS: Final[Mapping[str, tuple[str, ...]]] = {
    "performance": (
        "prediction_latency",
        "latency_p50",
        "latency_p90",
        "latency_p95",
        "latency_p99",
        "throughput",
        "requests_per_second",
        "error_rate",
    ),
    "quality": ("prediction_confidence", "nonfinite_predictions", "feature_drift", "drift_score"),
    "business": (*FEEDBACK_RATES, *FEEDBACK_MEANS),
}
"""The metrics the platform measures, by the group the proposal's grouped form names: the
gateway's series (performance, confidence, non-finite predictions, feedback events) and the
drift detector's score."""


def _check_names(value: tuple[str, ...], what: str) -> tuple[str, ...]:
    for name in value:
        if not is_metric_name(name):
            raise invalid(
                f"{what} {name!r} is not valid: use letters, digits and '_', starting with a letter"
            )
    duplicates = sorted({name for name in value if value.count(name) > 1})
    if duplicates:
        raise invalid(f"{what}s repeat: {', '.join(duplicates)}")
    return value


class Monitor(PolicyModel):
    """Metrics exported and watched for every version, and where alerts go."""

    metrics: tuple[str, ...]
    """Metric names from `MONITOR_METRICS`, e.g. prediction_latency, prediction_confidence,
    feature_drift, error_rate. The grouped form {"performance": [...], "quality": [...],
    "business": [...]} is also read, and kept as one list in group order."""
    alerts: AlertRoutes | None = None
    """Alert destinations. Default: none, alerts are only logged and shown in status."""

    @field_validator("metrics", mode="before")
    @classmethod
    def _flatten_groups(cls, value: Any) -> Any:
        """The grouped form {"performance": [...], "quality": [...], "business": [...]}, as one
        list in that order; each name must be one its group measures."""
        if not isinstance(value, Mapping):
            return value
        flat: list[Any] = []
        for group, names in value.items():
            allowed = MONITOR_METRICS.get(group)
            if allowed is None:
                raise invalid(
                    f"metric group {group!r} is not known; allowed: {', '.join(MONITOR_METRICS)}"
                )
            if isinstance(names, str) or not isinstance(names, list | tuple):
                raise invalid(f"metric group {group!r} must be a list of metric names")
            for name in names:
                if isinstance(name, str) and is_metric_name(name) and name not in allowed:
                    raise invalid(
                        f"metric {name!r} is not one the platform measures in group {group!r};"
                        f" allowed: {', '.join(allowed)}"
                    )
            flat.extend(names)
        return flat

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise invalid("monitor metrics are empty: name at least one, e.g. error_rate")
        _check_names(value, "metric")
        measured = [name for names in MONITOR_METRICS.values() for name in names]
        for name in value:
            if name not in measured:
                raise invalid(
                    f"metric {name!r} is not one the platform measures; allowed: "
                    + "; ".join(
                        f"{group}: {', '.join(names)}" for group, names in MONITOR_METRICS.items()
                    )
                )
        return value


class Drift(PolicyModel):
    """Input drift measured against a reference profile of the training data."""

    reference_uri: str
    """Where the reference data or profile lives: file://, s3://, gs:// or az://."""
    threshold: float = Field(gt=0)
    """Drift score above which drift is reported (the proposal's alert_threshold)."""
    window_seconds: Seconds
    """Live inputs are compared over this trailing window (the proposal's detection_window)."""
    method: Literal["psi"] = "psi"
    """Score: population stability index per feature, the largest reported. Default: "psi"."""

    @field_validator("reference_uri")
    @classmethod
    def _check_uri(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        if not separator or scheme not in ARTIFACT_SCHEMES or not rest.strip("/"):
            allowed = ", ".join(f"{name}://" for name in ARTIFACT_SCHEMES)
            raise invalid(f"reference_uri {value!r} is not valid; allowed schemes: {allowed}")
        return value


class Debugger(PolicyModel):
    """A sample of live requests captured and explained."""

    capture_rate: float = Field(gt=0, le=1)
    """Fraction of requests captured, above 0 and at most 1 (0.01 is one in a hundred)."""
    explainers: tuple[Explainer, ...]
    """Explanation methods run on captured requests (the proposal's `features` list): lime,
    shap, gradients, attention_maps (integrated gradients here)."""
    features: tuple[str, ...] = ()
    """Input features to explain. Default: all of them."""
    capture_redact: Mapping[str, Redaction] = {}
    """Captured fields to `drop` or `hash`, by name: every JSON object member of that name at
    any depth of the captured request and response (a TF Serving input name, in `instances`
    rows or the `inputs` object, or a nested member), e.g. {"email": "drop", "user_id": "hash"}.
    The gateway redacts before anything is stored; a hash is an HMAC-SHA256 keyed from the
    feedback-signing key, so equal values hash alike across replicas. Default: none."""
    capture_retention: Seconds = DEFAULT_CAPTURE_RETENTION_SECONDS
    """How long a captured record is kept: the gateway never hands it out later, and records
    carry `expires_unix_time` for whoever drains them. Default: 86400 s (one day); also
    accepts "12h", "7d"."""

    @field_validator("explainers", mode="before")
    @classmethod
    def _check_explainer_names(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            for name in value:
                if name not in _EXPLAINERS:
                    raise invalid(
                        f"explainer {name!r} is not an explanation method; allowed:"
                        f" {', '.join(_EXPLAINERS)}"
                    )
        return value

    @field_validator("explainers")
    @classmethod
    def _check_explainers(cls, value: tuple[Explainer, ...]) -> tuple[Explainer, ...]:
        if not value:
            raise invalid(f"explainers are empty: choose from {', '.join(_EXPLAINERS)}")
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise invalid(f"explainers repeat: {', '.join(duplicates)}")
        return value

    @field_validator("features")
    @classmethod
    def _check_features(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_names(value, "feature")

    @field_validator("capture_redact", mode="before")
    @classmethod
    def _check_redact(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value  # pydantic names the wrong type
        for name, how in value.items():
            if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
                raise invalid(
                    f"capture_redact field {name!r} is not valid: give a field name of 1 to"
                    " 256 characters without spaces"
                )
            if how not in _REDACTIONS:
                raise invalid(
                    f"capture_redact[{name!r}] is {how!r}; allowed: {', '.join(_REDACTIONS)}"
                )
        return dict(sorted(value.items()))
