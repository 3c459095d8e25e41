"""The controller's pure decision core `decide(policy, status, observation, now)`, and its HTTP
API (`build_api` over a `ControllerView`)."""

from tfprod.runtime.controller.actions import Decision, Notify, RouteChange
from tfprod.runtime.controller.api import (
    ControllerView,
    ExplanationsView,
    MetricsView,
    build_api,
)
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
    "ControllerView",
    "Decision",
    "ExplanationsView",
    "FeedbackCounters",
    "Histogram",
    "MetricsView",
    "Notify",
    "Observation",
    "RouteChange",
    "VersionCounters",
    "build_api",
    "check_interval",
    "decide",
    "subject",
]
