"""Fault onset to rollback, with real processes at 200 rps, and Flagger's analysis replayed.

Each run starts the local platform (`tfprod up`'s: two model servers of tiny classifiers, the
gateway, `tfprod controller` reading the gateway's /metrics), sends `--rps` predict requests a
second (open loop, `bench/_platform.Load`) with the canary v2 held at 50%, waits a few healthy
seconds, then injects one fault into the canary:

- killed: its model server is stopped for good;
- 5xx: it answers 10% of requests with an injected 500;
- latency: every answer 150 ms late.

Both policies carry the same safety net, `error_rate > 1%` and `latency_p95 > 100ms`, both
`immediate_rollback` (the success-rate and duration checks of Flagger's docs, with the
duration's quantile and threshold set for this fault); `aggressive` checks every second over a
4 s window, `defaults` are `ControllerSettings()`'s (10 s checks, 60 s window, 3 failing
checks). Measured from the onset (wall clock, the controller's decision records):

- decided: the rollback decision;
- committed: the rollback committed, the canary at 0% in every gateway replica (the controller
  saw every replica report the status generation that carries it);
- last failure: the last failed request the load generator saw (for latency: the last answer
  the slowed canary gave).

The gateway's own per-second counters of the canary are recorded during each run and
Flagger's fixed-window analysis is replayed on them (`bench/_flagger.py`: its code defaults,
interval 60 s, threshold 1, 1-minute window; and its shortest interval, 10 s), with the same
thresholds, for every phase of its check schedule relative to the onset. Flagger's figure is
its decision (no scrape delay, no actuation): the ratio is Flagger's median decision over
tfprod's median commit.

    PYTHONPATH=. .venv/bin/python bench/rollback.py --runs 10
    PYTHONPATH=. .venv/bin/python bench/rollback.py --quick   # one run each, a smoke test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._flagger import Analysis, Second, Stream, detection_times  # noqa: E402
from bench._platform import (  # noqa: E402
    CANARY,
    DEPLOYMENT,
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
from tfprod.runtime.local import LocalPlatform, PlatformOptions  # noqa: E402

TRIGGERS = {"error_rate > 1%": "immediate_rollback", "latency_p95 > 100ms": "immediate_rollback"}
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
        interval=60, threshold=1, max_error_rate=0.01, latency_level=0.95, max_latency=0.1
    ),
    "flagger 10s": Analysis(
        interval=10, threshold=1, max_error_rate=0.01, latency_level=0.95, max_latency=0.1
    ),
}
CANARY_PERCENT = 50.0
AFTER_COMMIT_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class Result:
    decided: float
    committed: float
    last_failure: float | None
    failures: int
    """User-visible failures after the onset (for latency: answers the slowed canary gave)."""
    rps: float
    flagger: dict[str, list[int | None]]


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
            snapshots.append(
                Snapshot(at=time.time(), counters=scrape(platform.gateway_url, CANARY))
            )
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
    stream = _stream(snapshots, onset_index=healthy, decided_at=onset + decided)
    return Result(
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
    """The canary's seconds between snapshots; faulty ones up to the rollback decision."""
    bounds: tuple[float, ...] = ()
    per_bucket: list[tuple[float, ...]] = []
    for snapshot in snapshots:
        latency = snapshot.counters.latency if snapshot.counters else None
        if latency is not None:
            bounds = (*latency.upper_bounds, float("inf"))
            cumulative = latency.cumulative_counts
            per_bucket.append(
                tuple(b - a for a, b in zip((0.0, *cumulative), cumulative, strict=False))
            )
        else:
            per_bucket.append(())
    width = len(bounds)
    seconds: list[Second] = []
    for index in range(1, len(snapshots)):
        if index - 1 > onset_index and snapshots[index - 1].at >= decided_at:
            break
        before, after = snapshots[index - 1].counters, snapshots[index].counters
        requests = (after.requests if after else 0.0) - (before.requests if before else 0.0)
        errors = (after.errors if after else 0.0) - (before.errors if before else 0.0)
        low = per_bucket[index - 1] or (0.0,) * width
        high = per_bucket[index] or (0.0,) * width
        seconds.append(
            Second(
                requests=requests,
                errors=errors,
                buckets=tuple(b - a for a, b in zip(low, high, strict=True)),
            )
        )
    return Stream(seconds=tuple(seconds), onset=onset_index, upper_bounds=bounds)


def _shown(result: Result) -> str:
    last = "none" if result.last_failure is None else f"{result.last_failure:.2f} s"
    return (
        f"decided {result.decided:.2f} s, committed {result.committed:.2f} s, last failure"
        f" {last} ({result.failures} failed), {result.rps:.0f} rps"
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
    for (fault, name), rows in results.items():
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
