"""Fault onset to rollback committed, with real processes under the local platform.

The canary (50%, aggressive policy: 1 s checks over a 4 s window, one failing check acts) is
told by fault injection to answer 10% 5xx, or its server is stopped; the time from then to
the status file saying the rollback is committed (every gateway replica serves the canary at
0%) is measured, `--runs` times each. Prints median and max. Loaded machines give noisy
figures: say so when quoting them.

    PYTHONPATH=. python -m bench.controller_local --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from examples.toy_models import export_tiny_classifier
from tests.controller.test_processes import (
    DEPLOYMENT,
    Traffic,
    canary_server,
    put_faults,
    ramp_policy,
    rolled_back,
    wait_for,
)
from tfprod.runtime.local import LocalPlatform, PlatformOptions
from tfprod.runtime.registry import Registry


def one_run(registry: str, workdir: Path, fault: str) -> float:
    options = PlatformOptions(workdir=workdir, gateway_port=0, fault_injection=True)
    policy = ramp_policy(registry, [[50, "1h"]])
    with LocalPlatform([policy], options) as platform, Traffic(platform.gateway_url):
        wait_for(platform, lambda s: s.rollout.phase == "progressing", timeout=60)
        time.sleep(5)  # a full evaluation window of healthy traffic first
        onset = time.monotonic()
        if fault == "5xx":
            put_faults(canary_server(platform), {"error_share": 0.1})
        else:
            platform.stop(f"{DEPLOYMENT}/v2")
        wait_for(platform, rolled_back, timeout=120)
        return time.monotonic() - onset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        registry = (root / "registry").as_uri()
        store = Registry.open(registry)
        for seed, version in ((1, "v1"), (2, "v2")):
            store.register(
                export_tiny_classifier(root / version, seed=seed), name="rec", version=version
            )
        for fault in ("5xx", "killed"):
            times = [
                one_run(registry, root / f"work-{fault}-{run}", fault) for run in range(args.runs)
            ]
            print(
                f"{fault}: onset -> rollback committed: median {statistics.median(times):.2f} s,"
                f" max {max(times):.2f} s over {len(times)} runs"
                f" ({', '.join(f'{t:.2f}' for t in times)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
