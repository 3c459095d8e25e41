"""Fault injection for tests, the demo and benchmarks: errors, latency and exits on demand.

Off unless `tfprod serve` is started with `--enable_fault_injection` (or one of the
`--fault_*` flags), and refused unless the server binds a loopback address: a fault plan is a
test fixture, never something a cluster can be told to do.

The schedule is counted, not random, so tests can assert exact figures. Inference requests
(every POST under `/v1/`: predict, classify, regress) are numbered from 1 since the current
plan was set; with an error share `s` (taken as an exact fraction), request `n` is answered
with an injected error when `floor(n * s) > floor((n - 1) * s)`. Any first N requests of a
plan therefore hold exactly `floor(N * s)` injected errors, evenly spread: a share of 0.1 gives
requests 10, 20, 30, ... and exactly 100 errors in 1,000 requests (tolerance 0). Status and
metadata requests (GET) are never touched, so readiness probes keep answering, and neither
is gRPC (the gateway speaks REST).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import Any

from tfprod.runtime.gateway.metrics import Counter, Gauge
from tfprod.runtime.serving.errors import ServingError

INJECTED_EXIT_CODE = 70
"""What a server told to exit exits with (EX_SOFTWARE), so a supervisor sees a crash."""

LOOPBACK_NAMES = ("localhost",)


def injected_error() -> ServingError:
    """The answer of a request chosen to fail: TF Serving's INTERNAL error (HTTP 500)."""
    return ServingError("INTERNAL", "Injected fault (tfprod serve fault injection)")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) is reachable from this machine only."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FaultPlanError(ValueError):
    """A fault plan field is out of range or unknown; the message names it and its value."""


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    """What the server does wrong from now on. The default plan injects nothing."""

    error_share: float = 0.0
    """Share of inference requests answered with an injected 500, in [0, 1], on the
    counted schedule described above. Default 0: none."""
    latency_ms: float = 0.0
    """Milliseconds added before every inference request is answered (injected errors
    included). Default 0: none."""
    exit_after_requests: int = 0
    """Answer this many more inference requests, then exit with `INJECTED_EXIT_CODE`.
    Default 0: never."""

    def __post_init__(self) -> None:
        share, latency, count = self.error_share, self.latency_ms, self.exit_after_requests
        if not _is_number(share) or not 0 <= share <= 1:
            raise FaultPlanError(f"error_share: must be a number in [0, 1], got {share!r}")
        if not _is_number(latency) or not 0 <= latency <= 60_000:
            raise FaultPlanError(f"latency_ms: must be a number in [0, 60000], got {latency!r}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FaultPlanError(
                f"exit_after_requests: must be a non-negative integer, got {count!r}"
            )

    @classmethod
    def from_json(cls, document: Any) -> FaultPlan:
        """The plan a JSON object describes; fields left out take their defaults."""
        allowed = sorted(field.name for field in fields(cls))
        if not isinstance(document, Mapping):
            raise FaultPlanError(f"a fault plan is a JSON object with fields {allowed}")
        unknown = sorted(set(document) - set(allowed))
        if unknown:
            raise FaultPlanError(f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")
        return cls(**document)

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class FaultDecision:
    """What to do to one inference request."""

    error: bool
    delay_seconds: float
    exit_after: bool


class FaultInjector:
    """The current plan, the request count it schedules by, and the metrics showing both."""

    def __init__(self, plan: FaultPlan) -> None:
        self._requests = Counter(
            "tfprod_serving_fault_requests_total",
            "Inference requests seen by fault injection since the server started.",
        )
        self._injected = Counter(
            "tfprod_serving_faults_injected_total",
            "Faults injected, by kind: error (an injected 500) or latency (a delayed answer).",
            ("kind",),
        )
        self._plan_gauges = {
            "error_share": Gauge(
                "tfprod_serving_fault_error_share",
                "Share of inference requests answered with an injected 500 (0: none).",
            ),
            "latency_ms": Gauge(
                "tfprod_serving_fault_latency_seconds",
                "Latency added to every inference request (0: none).",
            ),
            "exit_after_requests": Gauge(
                "tfprod_serving_fault_exit_after_requests",
                "Inference requests the plan answers before the server exits (0: never).",
            ),
        }
        self._requests.inc(amount=0)
        self._injected.inc(("error",), amount=0)
        self._injected.inc(("latency",), amount=0)
        self.set_plan(plan)

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    @property
    def counted(self) -> int:
        """Inference requests counted since the current plan was set."""
        return self._counted

    def set_plan(self, plan: FaultPlan) -> None:
        """Replaces the plan; its schedule starts again from request 1."""
        self._plan = plan
        self._share = Fraction(plan.error_share).limit_denominator(1_000_000)
        self._counted = 0
        for name, value in plan.to_json().items():
            scale = 1000 if name == "latency_ms" else 1
            self._plan_gauges[name].set((), value / scale)

    def next_request(self) -> FaultDecision:
        """Counts one inference request and says what to do to it."""
        self._counted += 1
        self._requests.inc()
        n, share, plan = self._counted, self._share, self._plan
        error = math.floor(n * share) > math.floor((n - 1) * share)
        if error:
            self._injected.inc(("error",))
        if plan.latency_ms:
            self._injected.inc(("latency",))
        return FaultDecision(
            error=error,
            delay_seconds=plan.latency_ms / 1000,
            exit_after=plan.exit_after_requests == n,
        )

    def render_metrics(self) -> str:
        metrics = (self._requests, self._injected, *self._plan_gauges.values())
        return "\n".join(line for metric in metrics for line in metric.render()) + "\n"
