"""The controller's pure decision core: `decide(policy, status, observation, now)`."""

from tfprod.runtime.controller.actions import Decision, Notify, RouteChange
from tfprod.runtime.controller.decide import COMMIT_POLL_SECONDS, check_interval, decide, subject
from tfprod.runtime.controller.observation import (
    Command,
    FeedbackCounters,
    Histogram,
    Observation,
    VersionCounters,
)

__all__ = [
    "COMMIT_POLL_SECONDS",
    "Command",
    "Decision",
    "FeedbackCounters",
    "Histogram",
    "Notify",
    "Observation",
    "RouteChange",
    "VersionCounters",
    "check_interval",
    "decide",
    "subject",
]
