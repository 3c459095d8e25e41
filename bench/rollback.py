"""Fault onset to rollback, with real processes at 200 rps, and Flagger's analysis replayed.

Each run starts the local platform (`tfprod up`'s: two model servers of tiny classifiers, the
gateway, `tfprod controller` reading the gateway's /metrics), sends `--rps` predict requests a
second (open loop, `bench/_platform.Load`) with the canary v2 held at 50%, waits a few healthy
seconds, then injects one fault into the canary:

- killed: its model server is stopped for good;
- 5xx: it answers 10% of requests with an injected 500;
- latency: every answer 150 ms late.

Both policies carry the same safety net and criterion: the trigger `error_rate > 1%`
(`immediate_rollback`; Flagger's documented request-success-rate check, 99%) and the canary
criterion `latency_p95 < 100ms`, judged against stable (a loaded machine slows both versions
alike: an absolute latency trigger at 100 ms fired on healthy traffic here, whose p95 reached
135 ms). `aggressive` checks every second over a 4 s window, one failing check acts;
`defaults` are `ControllerSettings()`'s (10 s checks, 60 s window, 3 failing checks).
Measured from the onset (wall clock, the controller's decision records):

- decided: the rollback decision;
- committed: the rollback committed, the canary at 0% in every gateway replica (the controller
  saw every replica report the status generation that carries it);
- last failure: the last failed request the load generator saw (for latency: the last answer
  the slowed canary gave).

The gateway's own per-second counters of canary and stable are recorded during each run and
Flagger's fixed-window analysis is replayed on them (`bench/_flagger.py`: its code defaults,
interval 60 s, threshold 1, 1-minute window; and its shortest interval, 10 s), with the same
thresholds (the latency check as canary p95 minus stable p95 over 100 ms), for every phase of
its check schedule relative to the onset. A run whose rollback comes before the onset is
counted as a false rollback and has no timings. Flagger's figure is
its decision (no scrape delay, no actuation): the ratio is Flagger's median decision over
tfprod's median commit.

    PYTHONPATH=. .venv/bin/python bench/rollback.py --runs 10
    PYTHONPATH=. .venv/bin/python bench/rollback.py --quick   # one run each, a smoke test
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._flagger import Analysis, Second, Stream, detection_times  # noqa: E402
from bench._platform import (  # noqa: E402
    CANARY,
    DEPLOYMENT,
    STABLE,
    Answer,
    Load,
    Snapshot,
    canary_policy,
    canary_server,
    machine_load,
    put_faults,
    rolled_back,
    scrape,
    status,
    tiny_registry,
    wait_for,
)
from tfprod.policy import DeploymentStatus, Policy  # noqa: E402
from tfprod.runtime.controller.observation import VersionCounters  # noqa: E402
from tfprod.runtime.local import LocalPlatform, PlatformOptions  # noqa: E402

TRIGGERS = {"error_rate > 1%": "immediate_rollback"}
CRITERIA = {"latency_p95": "< 100ms"}
POLICIES: dict[str, dict[str, Any]] = {
    "aggressive": {
        "check_interval_seconds": 1,
        "evaluation_window_seconds": 4,
        "failure_threshold": 1,
        "min_samples": 20,
        "no_data_bound_seconds": 120,
        "actuation_bound_seconds": 2,
    },
    "defaults": {},
}
FAULTS = ("killed", "5xx", "latency")
FLAGGER = {
    "flagger 60s": Analysis(
        interval=60, max_error_rate=0.01, latency_level=0.95, max_latency=0.1, relative=True
    ),
    "flagger 10s": Analysis(
        interval=10, max_error_rate=0.01, latency_level=0.95, max_latency=0.1, relative=True
    ),
}
CANARY_PERCENT = 50.0
AFTER_COMMIT_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class Result:
    cause: str
    rps: float
    false: bool = False
    """Rolled back before the onset: a false rollback (no timings then)."""
    decided: float = 0.0
    committed: float = 0.0
    last_failure: float | None = None
    failures: int = 0
    """User-visible failures after the onset (for latency: answers the slowed canary gave)."""
    healthy_p95: float = 0.0
    """The load generator's p95 latency before the onset, seconds."""
    flagger: dict[str, list[int | None]] = field(default_factory=dict)


def one_run(
    registry: str, workdir: Path, policy: Policy, fault: str, *, rps: float, healthy: int
) -> Result:
    options = PlatformOptions(workdir=workdir, gateway_port=0, fault_injection=True)
    with LocalPlatform([policy], options) as platform, Load(platform.gateway_url, rps=rps) as load:
        wait_for(platform, lambda s: s.rollout.phase == "progressing", timeout=120)
        snapshots: list[Snapshot] = []
        onset = committed_seen = 0.0
        tick = time.monotonic()
        while True:
            snapshots.append(scrape(platform.gateway_url))
            if len(snapshots) == healthy + 1:
                onset = time.time()
                _inject(platform, fault)
            tick += 1.0
            while time.monotonic() < tick:
                current = status(platform)
                if not committed_seen and current is not None and rolled_back(current):
                    committed_seen = time.monotonic()
                time.sleep(0.05)
            if committed_seen and time.monotonic() - committed_seen >= AFTER_COMMIT_SECONDS:
                break
            if onset and time.time() - onset > 150:
                raise TimeoutError(
                    f"{fault}: no rollback 150 s after the onset: {status(platform)}"
                )
        final = wait_for(platform, rolled_back, timeout=10)
    decided, committed = _decision_times(final, onset)
    failures = [
        answer.done
        for answer in load.answers
        if answer.done >= onset
        and (
            (answer.variant == CANARY and answer.sent >= onset)
            if fault == "latency"
            else not answer.ok
        )
    ]
    span = load.answers[-1].sent - load.answers[0].sent if len(load.answers) > 1 else 1.0
    cause = final.rollout.rollback.cause if final.rollout.rollback else ""
    before = sorted(answer.done - answer.sent for answer in load.answers if answer.done < onset)
    healthy_p95 = before[int(0.95 * len(before))] if before else math.nan
    if decided < 0:
        return Result(false=True, cause=cause, rps=0.0, healthy_p95=healthy_p95)
    stream = _stream(snapshots, onset_index=healthy, decided_at=onset + decided)
    return Result(
        cause=cause,
        healthy_p95=healthy_p95,
        decided=decided,
        committed=committed,
        last_failure=max(failures) - onset if failures else None,
        failures=len(failures),
        rps=len(load.answers) / span,
        flagger={name: detection_times(stream, analysis) for name, analysis in FLAGGER.items()},
    )


def _failed(answer: Answer, fault: str, onset: float) -> bool:
    """A user-visible failure: a failed request done after the onset; for the latency fault,
    an answer of the slowed canary sent after it."""
    if answer.done < onset:
        return False
    if fault == "latency":
        return answer.variant == CANARY and answer.sent >= onset
    return not answer.ok


def _inject(platform: LocalPlatform, fault: str) -> None:
    if fault == "killed":
        platform.stop(f"{DEPLOYMENT}/{CANARY}")
    elif fault == "5xx":
        put_faults(canary_server(platform), {"error_share": 0.1})
    else:
        put_faults(canary_server(platform), {"latency_ms": 150})


def _decision_times(final: DeploymentStatus, onset: float) -> tuple[float, float]:
    records = {record.action: record.at.timestamp() for record in final.rollout.decisions}
    return records["rollback"] - onset, records["rolled_back"] - onset


def _stream(snapshots: list[Snapshot], *, onset_index: int, decided_at: float) -> Stream:
    """The canary's (and stable's) seconds between snapshots; faulty ones up to the decision."""
    end = len(snapshots)
    for index in range(onset_index + 2, len(snapshots)):
        if snapshots[index - 1].at >= decided_at:
            end = index
            break
    bounds: tuple[float, ...] = ()
    for snapshot in snapshots:
        for counters in snapshot.counters.values():
            if counters.latency is not None:
                bounds = (*counters.latency.upper_bounds, float("inf"))
    canary, stable = (
        tuple(_second(snapshots[i - 1], snapshots[i], version, len(bounds)) for i in range(1, end))
        for version in (CANARY, STABLE)
    )
    return Stream(seconds=canary, onset=onset_index, upper_bounds=bounds, reference=stable)


def _second(before: Snapshot, after: Snapshot, version: str, width: int) -> Second:
    low, high = before.counters.get(version), after.counters.get(version)
    low_buckets, high_buckets = _per_bucket(low, width), _per_bucket(high, width)
    return Second(
        requests=(high.requests if high else 0.0) - (low.requests if low else 0.0),
        errors=(high.errors if high else 0.0) - (low.errors if low else 0.0),
        buckets=tuple(b - a for a, b in zip(low_buckets, high_buckets, strict=True)),
    )


def _per_bucket(counters: VersionCounters | None, width: int) -> tuple[float, ...]:
    if counters is None or counters.latency is None:
        return (0.0,) * width
    cumulative = counters.latency.cumulative_counts
    return tuple(b - a for a, b in zip((0.0, *cumulative), cumulative, strict=False))


def _shown(result: Result) -> str:
    if result.false:
        return (
            f"FALSE ROLLBACK before the onset (healthy p95 {result.healthy_p95 * 1000:.0f} ms):"
            f" {result.cause}"
        )
    last = "none" if result.last_failure is None else f"{result.last_failure:.2f} s"
    return (
        f"decided {result.decided:.2f} s, committed {result.committed:.2f} s, last failure"
        f" {last} ({result.failures} failed), {result.rps:.0f} rps, healthy p95"
        f" {result.healthy_p95 * 1000:.0f} ms; {result.cause[:60]}"
    )


def _figures(values: list[float]) -> str:
    if not values:
        return f"{'-':>15}"
    return f"{statistics.median(values):>7.2f} {max(values):>7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per fault and policy")
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--healthy", type=int, default=5, help="healthy seconds before the fault")
    parser.add_argument("--quick", action="store_true", help="one run each, 3 healthy seconds")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--policies", default=",".join(POLICIES))
    options = parser.parse_args()
    runs, healthy = (1, 3) if options.quick else (options.runs, options.healthy)
    started = time.monotonic()
    print(f"{machine_load()} at the start", flush=True)
    results: dict[tuple[str, str], list[Result]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        registry = tiny_registry(root)
        for run in range(runs):
            for fault in options.faults.split(","):
                for name in options.policies.split(","):
                    policy = canary_policy(
                        registry,
                        percent=CANARY_PERCENT,
                        controller=POLICIES[name],
                        triggers=TRIGGERS,
                        criteria=CRITERIA,
                    )
                    workdir = root / f"work-{fault}-{name}-{run}"
                    result = one_run(
                        registry, workdir, policy, fault, rps=options.rps, healthy=healthy
                    )
                    results.setdefault((fault, name), []).append(result)
                    print(
                        f"run {run + 1}/{runs} {fault:<8} {name:<10} {_shown(result)}", flush=True
                    )
    print(f"{machine_load()} at the end; {time.monotonic() - started:.0f} s wall")
    print()
    print("seconds from the fault's onset: median and max over the runs (Flagger: over the runs")
    print(
        "and every phase of its check schedule); ratio = Flagger median / tfprod committed median"
    )
    header = f"{'fault':<8} {'policy':<10} {'n':>2} {'decided':>15} {'committed':>15}"
    header += f" {'last failure':>15} {'failed':>6}"
    header += "".join(f" {name:>15} {'ratio':>6}" for name in FLAGGER)
    print(header)
    for (fault, name), every in results.items():
        rows = [row for row in every if not row.false]
        if len(rows) < len(every):
            print(
                f"{fault:<8} {name:<10} {len(every) - len(rows)} false rollbacks before the onset"
            )
        if not rows:
            continue
        committed = [row.committed for row in rows]
        line = (
            f"{fault:<8} {name:<10} {len(rows):>2} {_figures([row.decided for row in rows])}"
            f" {_figures(committed)}"
            f" {_figures([row.last_failure for row in rows if row.last_failure is not None])}"
            f" {sum(row.failures for row in rows):>6}"
        )
        for flagger in FLAGGER:
            times = [t for row in rows for t in row.flagger[flagger] if t is not None]
            missed = sum(t is None for row in rows for t in row.flagger[flagger])
            ratio = (
                statistics.median(times) / statistics.median(committed) if times else float("nan")
            )
            line += f" {_figures([float(t) for t in times])} {ratio:>6.1f}"
            if missed:
                line += f" ({missed} never)"
        print(line)


if __name__ == "__main__":
    main()
