"""When the controller steps in, and how fast it looks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy._fields import ConditionField, Seconds
from tfprod.policy.versions import check_version_id

Action = Literal["immediate_rollback", "gradual_rollback", "alert_and_monitor", "pause"]
"""What a met trigger does.

- immediate_rollback: all traffic to the fallback version in one routing change.
- gradual_rollback: the failing version's weight walks down the canary's steps in reverse,
  one step per check interval, then reaches 0 (one step if there is no canary ramp).
- alert_and_monitor: alert, change nothing.
- pause: alert and hold the rollout where it is until a person resumes or aborts it.
"""


TRIGGER_INTERVAL_SECONDS = 1.0
"""How often the controller looks at a rate trigger (or at its check interval, if shorter)."""
RATE_METRICS: tuple[str, ...] = (
    "error_rate",
    "latency_p50",
    "latency_p90",
    "latency_p95",
    "latency_p99",
)
"""Trigger metrics that are rates: error_rate, and a latency quantile (the share of requests
slower than the threshold against 1 - q)."""


class Trigger(PolicyModel):
    """A condition on live metrics and what to do when it holds."""

    condition: ConditionField
    action: Action

    @property
    def sequential(self) -> bool:
        """Whether the controller runs this trigger as a sequential rate test.

        A trigger on a rate (`RATE_METRICS` compared with <, <=, > or >=) is looked at every
        `TRIGGER_INTERVAL_SECONDS`: it acts as soon as the requests since one of its looks over
        the last evaluation window show the rate past the threshold, and also when the
        evaluation window's rate has been past it at every look for `failure_threshold` check
        intervals. Any other trigger compares the evaluation window's value at each check and
        acts after `failure_threshold` failing checks in a row.
        """
        return self.condition.metric in RATE_METRICS and self.condition.op not in ("==", "!=")


class SafetyNet(PolicyModel):
    """Triggers that roll back, pause or alert, and the version to fall back to."""

    fallback_version: str
    """Id of the version traffic returns to (role fallback or stable)."""
    triggers: tuple[Trigger, ...]
    """Also accepts the proposal's {"error_rate > 5%": "immediate_rollback", ...}."""

    @field_validator("fallback_version")
    @classmethod
    def _check_fallback(cls, value: str) -> str:
        return check_version_id(value, "fallback version")

    @field_validator("triggers")
    @classmethod
    def _check_triggers(cls, value: tuple[Trigger, ...]) -> tuple[Trigger, ...]:
        if not value:
            raise invalid("safety triggers are empty: give at least one condition and action")
        return value

    @field_validator(
        "triggers", mode="before", json_schema_input_type=list[Trigger] | dict[str, Action]
    )
    @classmethod
    def _read_mapping(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return [{"condition": key, "action": action} for key, action in value.items()]
        return value


class ControllerSettings(PolicyModel):
    """How often the controller looks, and how much evidence it needs before acting."""

    check_interval_seconds: Seconds = 10.0
    """Time between two checks. Default: 10 s."""
    evaluation_window_seconds: Seconds = 60.0
    """Each check reads metrics over this trailing window. Default: 60 s."""
    failure_threshold: int = Field(default=3, ge=1)
    """Consecutive failing checks before a canary criterion or a windowed trigger acts (a rate
    trigger shown past its threshold acts at once; see `Trigger`). Default: 3."""
    min_samples: int = Field(default=100, ge=1)
    """Requests a window needs before its metrics count; fewer is "no data". Default: 100."""
    no_data_bound_seconds: Seconds = 300.0
    """How long no data may hold a rollout before it is rolled back. Default: 300 s."""
    actuation_bound_seconds: Seconds = 5.0
    """Longest one routing change may take to reach every gateway. Default: 5 s."""

    @model_validator(mode="after")
    def _check_bound(self) -> ControllerSettings:
        if self.no_data_bound_seconds < self.check_interval_seconds:
            raise invalid(
                f"no_data_bound_seconds ({self.no_data_bound_seconds:g}) is shorter than"
                f" check_interval_seconds ({self.check_interval_seconds:g}); the bound must"
                " allow at least one check"
            )
        return self
