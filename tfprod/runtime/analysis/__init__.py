"""Pure statistics for the controller's decisions: sequential A/B tests, the canary judge, and
the safety triggers' sequential threshold test.

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
from tfprod.runtime.analysis.samples import (
    Buckets,
    Moments,
    Proportion,
    SampleError,
    count_above,
    quantile,
)
from tfprod.runtime.analysis.threshold import Crossing, crossing

__all__ = [
    "JUDGED_METRICS",
    "ABResult",
    "ABState",
    "Arms",
    "Buckets",
    "CanaryState",
    "CheckResult",
    "Crossing",
    "Decision",
    "MetricResult",
    "Moments",
    "Outcome",
    "Proportion",
    "SampleError",
    "SequentialState",
    "analyse",
    "count_above",
    "crossing",
    "judge",
    "quantile",
    "update",
]
