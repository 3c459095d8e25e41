"""Pure statistics for the controller's decisions: sequential A/B tests and the canary judge.

No clock, no I/O: every function takes running totals and a small frozen state the caller
keeps, and returns the next state with its result.
"""

from tfprod.runtime.analysis.abtest import ABResult, ABState, Decision, MetricResult, analyse
from tfprod.runtime.analysis.canary import (
    JUDGED_METRICS,
    CanaryState,
    CheckResult,
    judge,
)
from tfprod.runtime.analysis.msprt import Arms, SequentialState, update
from tfprod.runtime.analysis.outcome import Outcome
from tfprod.runtime.analysis.samples import Buckets, Moments, Proportion, SampleError, quantile

__all__ = [
    "JUDGED_METRICS",
    "ABResult",
    "ABState",
    "Arms",
    "Buckets",
    "CanaryState",
    "CheckResult",
    "Decision",
    "MetricResult",
    "Moments",
    "Outcome",
    "Proportion",
    "SampleError",
    "SequentialState",
    "analyse",
    "judge",
    "quantile",
    "update",
]
