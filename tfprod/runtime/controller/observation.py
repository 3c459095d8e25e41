"""What the controller sees at one check: cumulative counters per version, replica generations.

Counters are cumulative, as the gateways export them (`tfprod_gateway_requests_total`,
`tfprod_gateway_request_duration_seconds`, `tfprod_gateway_feedback_events_total`,
`tfprod_gateway_feedback_value_total`), either per gateway replica (`replicas`, from each
replica's `/metrics`: a restarted replica resets only its own counters) or summed over the
replicas (`versions`, e.g. a PromQL `sum by (variant)`):

- `requests`: every attempt on the version (`requests_total` of that variant, every outcome);
- `errors`: its failed attempts (`outcome="fell_back"` plus `outcome="failed"`), so a version
  whose failures the fallback answered still shows them;
- `latency`: the attempts' duration histogram, cumulative counts at each bound and +Inf;
- `feedback`: per event (click, conversion, revenue), the count, the sum of values and the sum
  of their squares.

A version missing from both has no data at this check. A metric source that failed
(Prometheus unreachable, a replica's `/metrics` refused) is named in `source_errors`: that is
not "no data", every metric check is an error while it lasts. `replica_generations` is the
status generation each gateway replica reports serving. `commands` are what people asked for
since the last check (promote, abort, pause, resume), delivered until a status carrying their
effect is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

CommandKind = Literal["promote", "abort", "pause", "resume"]


@dataclass(frozen=True, kw_only=True)
class Histogram:
    """A cumulative histogram: counts at each finite bound, then the +Inf count last."""

    upper_bounds: tuple[float, ...]
    """Finite bounds, seconds, increasing."""
    cumulative_counts: tuple[float, ...]
    """One per bound plus one for +Inf (the total)."""


@dataclass(frozen=True, kw_only=True)
class FeedbackCounters:
    """One feedback event's counters: events, sum of values, sum of squared values."""

    count: float
    total: float
    sum_of_squares: float


@dataclass(frozen=True, kw_only=True)
class VersionCounters:
    """One version's cumulative counters, summed over the gateway replicas."""

    requests: float
    errors: float = 0.0
    latency: Histogram | None = None
    """None: this source does not export latency."""
    feedback: Mapping[str, FeedbackCounters] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Command:
    """A person's request: promote, abort, pause or resume the rollout."""

    kind: CommandKind
    by: str
    """Who asked, for the decision log, e.g. "tfprod abort (alice)"."""


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One check's inputs besides the policy, the status and the time."""

    versions: Mapping[str, VersionCounters] = field(default_factory=dict)
    """Version -> its counters summed over the gateway replicas."""
    replicas: Mapping[str, Mapping[str, VersionCounters]] = field(default_factory=dict)
    """Gateway replica -> version -> that replica's counters."""
    source_errors: Mapping[str, str] = field(default_factory=dict)
    """Metric source name -> what went wrong; empty when every source answered."""
    replica_generations: Mapping[str, int] = field(default_factory=dict)
    """Gateway replica -> the status generation it serves."""
    commands: tuple[Command, ...] = ()

    def counters(self) -> dict[str, tuple[str, VersionCounters]]:
        """Every series of counters: key (version, or replica/version) -> (version, counters)."""
        series = {version: (version, counters) for version, counters in self.versions.items()}
        for replica, versions in self.replicas.items():
            for version, counters in versions.items():
                series[f"{replica}/{version}"] = (version, counters)
        return series
