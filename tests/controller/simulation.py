"""A seeded synthetic platform and the controller loop around `decide`, in virtual time.

`Platform` stands for the gateways: live traffic split by the weights each replica serves,
cumulative counters per version drawn from each version's profile (error share, latency,
conversions, revenue), and replicas that take a written status after their own delay (at most
the policy's actuation bound). Faults change a version's profile from an onset, hide its
counters (no data), fail the metric source, or reset the counters (a restarted gateway).

`simulate` is the loop the real controller runs: observe, `decide`, write the status if it
changed, take the actions, look again after `requeue_after`. It can be killed at random ticks
(the decision is lost before the status write, and a new controller resumes from the last
written status alone after a restart delay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from statistics import NormalDist

import numpy as np

from tfprod.policy import DeploymentStatus, Policy
from tfprod.policy.rollout_state import FINAL_PHASES
from tfprod.policy.status import parse_status, status_json
from tfprod.runtime.controller import (
    Command,
    Decision,
    FeedbackCounters,
    Histogram,
    Notify,
    Observation,
    RouteChange,
    VersionCounters,
    decide,
)
from tfprod.runtime.controller.actions import Action
from tfprod.runtime.gateway.metrics import LATENCY_BUCKETS

EPOCH = datetime(2026, 12, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The virtual time `seconds` after the simulation starts."""
    return EPOCH + timedelta(seconds=seconds)


@dataclass(frozen=True, kw_only=True)
class Profile:
    """How a version answers: error share, median latency, conversion share, revenue."""

    error_rate: float = 0.002
    latency_median: float = 0.020
    """Seconds; latency is log-normal with sigma 0.5 around it."""
    conversion_rate: float = 0.05
    revenue_mean: float = 0.0
    """Mean revenue per answered request (a revenue event per conversion); 0 for none."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    """From `onset` (until `end`), `version` answers with `profile`, or its counters vanish
    (`hidden`), or the metric source fails (`source_down`), or its counters reset once."""

    version: str
    onset: float
    end: float = math.inf
    profile: Profile | None = None
    hidden: bool = False
    source_down: bool = False
    reset: bool = False

    def active(self, t: float) -> bool:
        return self.onset <= t < self.end


@cache
def _bucket_shares(median: float) -> tuple[float, ...]:
    """Share of a log-normal(median, 0.5) latency in each bucket, +Inf last."""
    normal = NormalDist(math.log(median), 0.5)
    cdf = [normal.cdf(math.log(bound)) for bound in LATENCY_BUCKETS] + [1.0]
    return tuple(after - before for before, after in zip([0.0, *cdf[:-1]], cdf, strict=True))


@dataclass
class _Counters:
    requests: float = 0.0
    errors: float = 0.0
    buckets: np.ndarray = field(default_factory=lambda: np.zeros(len(LATENCY_BUCKETS) + 1))
    conversions: float = 0.0
    revenue: float = 0.0
    revenue_squares: float = 0.0


class Platform:
    """Gateway replicas following the status, and the traffic they count."""

    def __init__(
        self,
        *,
        seed: int,
        profiles: dict[str, Profile],
        faults: tuple[Fault, ...] = (),
        rps: float = 200.0,
        adoption_delays: tuple[float, ...] = (0.4, 1.3),
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.profiles = profiles
        self.faults = faults
        self.rps = rps
        self.delays = adoption_delays
        self.clock = 0.0
        self.counters: dict[str, _Counters] = {}
        self.served: list[tuple[int, dict[str, float]]] = []
        self.pending: list[tuple[float, int, int, dict[str, float]]] = []
        self.reset_done: set[Fault] = set()
        self.zero_since: dict[str, float] = {}
        """Version -> when every replica first served it at 0% (kept while it stays there)."""

    def write(self, status: DeploymentStatus, t: float) -> None:
        """The status was written at `t`: replica i serves it `delays[i]` later."""
        if not self.served:
            self.served = [(status.generation, dict(status.weights)) for _ in self.delays]
            return
        for replica, delay in enumerate(self.delays):
            self.pending.append((t + delay, replica, status.generation, dict(status.weights)))
        self.pending.sort(key=lambda item: item[0])

    def advance(self, to: float) -> None:
        while self.clock < to:
            step = min(1.0, to - self.clock)
            self._adopt(self.clock)
            self._traffic(self.clock, step)
            self.clock += step
        self._adopt(self.clock)

    def observe(self, commands: tuple[Command, ...] = ()) -> Observation:
        t = self.clock
        down = [fault for fault in self.faults if fault.source_down and fault.active(t)]
        generations = {f"gateway-{i}": served[0] for i, served in enumerate(self.served)}
        if down:
            return Observation(
                source_errors={"prometheus": "connection refused (127.0.0.1:9090)"},
                replica_generations=generations,
                commands=commands,
            )
        hidden = {fault.version for fault in self.faults if fault.hidden and fault.active(t)}
        versions = {
            version: VersionCounters(
                requests=counts.requests,
                errors=counts.errors,
                latency=Histogram(
                    upper_bounds=LATENCY_BUCKETS,
                    cumulative_counts=tuple(float(c) for c in np.cumsum(counts.buckets)),
                ),
                feedback={
                    "conversion": FeedbackCounters(
                        count=counts.conversions,
                        total=counts.conversions,
                        sum_of_squares=counts.conversions,
                    ),
                    "revenue": FeedbackCounters(
                        count=counts.conversions,
                        total=counts.revenue,
                        sum_of_squares=counts.revenue_squares,
                    ),
                },
            )
            for version, counts in self.counters.items()
            if version not in hidden
        }
        return Observation(versions=versions, replica_generations=generations, commands=commands)

    def _adopt(self, t: float) -> None:
        while self.pending and self.pending[0][0] <= t:
            when, replica, generation, weights = self.pending.pop(0)
            if generation > self.served[replica][0]:
                self.served[replica] = (generation, weights)
            for version in {v for _, w in self.served for v in w}:
                if all(w.get(version, 0.0) == 0.0 for _, w in self.served):
                    self.zero_since.setdefault(version, when)
                else:
                    self.zero_since.pop(version, None)

    def profile(self, version: str, t: float) -> Profile:
        profile = self.profiles[version]
        for fault in self.faults:
            if fault.version == version and fault.profile is not None and fault.active(t):
                profile = fault.profile
        return profile

    def _traffic(self, t: float, seconds: float) -> None:
        for fault in self.faults:
            if fault.reset and fault.active(t) and fault not in self.reset_done:
                self.reset_done.add(fault)
                self.counters[fault.version] = _Counters()
        shares: dict[str, float] = {}
        for _, weights in self.served:
            for version, weight in weights.items():
                shares[version] = shares.get(version, 0.0) + weight / 100 / len(self.served)
        rng = self.rng
        for version, share in sorted(shares.items()):
            if share <= 0:
                continue
            profile = self.profile(version, t)
            counts = self.counters.setdefault(version, _Counters())
            requests = int(rng.poisson(self.rps * seconds * share))
            errors = int(rng.binomial(requests, profile.error_rate))
            counts.requests += requests
            counts.errors += errors
            counts.buckets += rng.multinomial(requests, _bucket_shares(profile.latency_median))
            conversions = int(rng.binomial(requests - errors, profile.conversion_rate))
            counts.conversions += conversions
            if profile.revenue_mean and conversions:
                per_conversion = profile.revenue_mean / profile.conversion_rate
                values = rng.exponential(per_conversion, conversions)
                counts.revenue += float(values.sum())
                counts.revenue_squares += float((values * values).sum())


@dataclass(frozen=True, kw_only=True)
class Tick:
    """One decision the loop persisted: when, what it decided, what it did."""

    t: float
    decision: Decision
    actions: tuple[Action, ...]


@dataclass(frozen=True, kw_only=True)
class Run:
    ticks: tuple[Tick, ...]
    final: DeploymentStatus
    kills: int
    platform: Platform

    @property
    def phases(self) -> tuple[str | None, ...]:
        """The phases the persisted statuses went through, repeats removed."""
        seen: list[str | None] = []
        for tick in self.ticks:
            phase = tick.decision.next_status.rollout.phase
            if not seen or seen[-1] != phase:
                seen.append(phase)
        return tuple(seen)

    def log(self) -> tuple[tuple[float, str], ...]:
        """(virtual seconds, action) of every decision record of the final status."""
        return tuple(
            ((record.at - EPOCH).total_seconds(), record.action)
            for record in self.final.rollout.decisions
        )

    def routes(self) -> list[dict[str, float]]:
        """The weights of every route change, in order."""
        return [
            action.weights
            for tick in self.ticks
            for action in tick.actions
            if isinstance(action, RouteChange)
        ]

    def events(self) -> list[str]:
        """Every notification's event, in order."""
        return [
            action.event
            for tick in self.ticks
            for action in tick.actions
            if isinstance(action, Notify)
        ]

    def first(self, phase: str) -> float | None:
        """When a persisted status first had `phase`."""
        return next(
            (tick.t for tick in self.ticks if tick.decision.next_status.rollout.phase == phase),
            None,
        )


def initial_status(policy: Policy) -> DeploymentStatus:
    return DeploymentStatus(
        deployment=policy.name,
        generation=1,
        weights=dict(policy.traffic.weights),
        policy_digest="sha256:test",
        updated_at=EPOCH,
        writer="simulation",
    )


def simulate(
    policy: Policy,
    platform: Platform,
    *,
    until: float,
    commands: dict[float, Command] | None = None,
    kill_probability: float = 0.0,
    kill_seed: int = 0,
    restart_delay: float = 3.0,
    status: DeploymentStatus | None = None,
    stop_when_final: bool = True,
    round_trip: bool = True,
) -> Run:
    """Run the controller loop from `status` (default: the declared weights) until `until`.

    `round_trip` passes every written status through its JSON form and back, as a restarted
    controller reads it (off: faster, for benches that run many healthy rollouts)."""
    persisted = status or initial_status(policy)
    platform.write(persisted, platform.clock)
    killer = np.random.default_rng(kill_seed)
    waiting = dict(sorted((commands or {}).items()))
    ticks: list[Tick] = []
    kills = 0
    t = platform.clock
    while t <= until:
        platform.advance(t)
        due = tuple(command for when, command in waiting.items() if when <= t)
        decision = decide(policy, persisted, platform.observe(due), at(t))
        if kill_probability and killer.random() < kill_probability:
            kills += 1
            t += restart_delay
            continue
        if decision.next_status != persisted:
            persisted = _written(decision.next_status) if round_trip else decision.next_status
            platform.write(persisted, t)
        waiting = {when: command for when, command in waiting.items() if when > t}
        ticks.append(Tick(t=t, decision=decision, actions=decision.actions))
        if stop_when_final and _settled(persisted):
            break
        t += decision.requeue_after
    return Run(ticks=tuple(ticks), final=persisted, kills=kills, platform=platform)


def _written(status: DeploymentStatus) -> DeploymentStatus:
    """The status as a reader gets it back from the JSON document."""
    written = parse_status(status_json(status), "simulated status")
    assert written.rollout == status.rollout
    return written


def _settled(status: DeploymentStatus) -> bool:
    return status.rollout.phase in FINAL_PHASES
