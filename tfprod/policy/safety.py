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


class Trigger(PolicyModel):
    """A condition on live metrics and what to do when it holds."""

    condition: ConditionField
    action: Action


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
    """Consecutive failing checks before a trigger or criterion acts. Default: 3."""
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
