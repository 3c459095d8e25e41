"""False rollbacks: healthy canaries taken through a whole ramp by `decide`, in virtual time.

Every run is a canary as healthy as stable (the same error share and latency, drawn from a
seeded synthetic platform at `--rps` requests per second, two gateway replicas), ramped by
`linear_10_minutes` from 5%, with the success criteria and safety triggers of the README's
example close to the versions' own figures (0.5% errors, `--error-rate`, against
"error_rate < 1%" and "error_rate > 5%"; a 35 ms median latency, p95 about 80 ms, against
"latency_p95 < 200ms" and "> 200ms", read from the gateway's histogram buckets as Prometheus
would). Any run that does not end promoted is a false rollback (or a false hold).
Two controller settings: the defaults, and an aggressive one (5 s checks over a 20 s window,
2 failing checks). Prints the count and rate of each (target: at most 1%).

    PYTHONPATH=. .venv/bin/python bench/false_rollbacks.py --runs 200
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from tests.controller.simulation import Platform, Profile, simulate
from tests.policy.helpers import minimal_policy
from tfprod.policy import Policy, ramp_steps

STABLE, CANARY = "rec-v2.0.0", "rec-v2.1.0"
LATENCY_MEDIAN = 0.035
SETTINGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "aggressive": {
        "check_interval_seconds": 5,
        "evaluation_window_seconds": 20,
        "failure_threshold": 2,
        "min_samples": 50,
        "no_data_bound_seconds": 60,
        "actuation_bound_seconds": 2,
    },
}


def policy(settings: dict[str, Any]) -> Policy:
    return Policy.model_validate(
        minimal_policy(
            canary={
                "version": CANARY,
                "steps": ramp_steps("linear_10_minutes", 5),
                "success_criteria": {"error_rate": "< 1%", "latency_p95": "< 200ms"},
            },
            safety={
                "fallback_version": STABLE,
                "triggers": {
                    "error_rate > 5%": "immediate_rollback",
                    "latency_p95 > 200ms": "gradual_rollback",
                },
            },
            controller=settings,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="healthy runs per setting")
    parser.add_argument("--rps", type=float, default=200.0, help="requests per second")
    parser.add_argument(
        "--error-rate", type=float, default=0.005, help="both versions' error share (0.005)"
    )
    options = parser.parse_args()
    print(
        f"{options.runs} healthy runs per setting, {options.rps:g} rps, linear_10_minutes ramp,"
        f" {options.error_rate:.2%} errors on both versions"
    )
    print(f"{'settings':<12} {'promoted':>9} {'false':>6} {'rate':>7} {'ends':<28} wall s")
    for name, settings in SETTINGS.items():
        started = time.perf_counter()
        ends: Counter[str] = Counter()
        for seed in range(options.runs):
            healthy = Profile(error_rate=options.error_rate, latency_median=LATENCY_MEDIAN)
            platform = Platform(
                seed=seed, profiles={STABLE: healthy, CANARY: healthy}, rps=options.rps
            )
            run = simulate(policy(settings), platform, until=3600, round_trip=False)
            ends[run.final.rollout.phase or "none"] += 1
        wall = time.perf_counter() - started
        false = options.runs - ends["promoted"]
        shown = ", ".join(f"{phase} {count}" for phase, count in sorted(ends.items()))
        print(
            f"{name:<12} {ends['promoted']:>9} {false:>6} {false / options.runs:>7.1%}"
            f" {shown:<28} {wall:.1f}"
        )


if __name__ == "__main__":
    main()
