"""Synthesize the three-cloud app through tfprod's bindings and through the prebuilt providers.

Each run is a fresh interpreter (`bench/three_cloud_app.py` in a subprocess), so Python,
cdktn and the jsii Node.js kernel all start from cold, as in `cdktf synth`. The two flavours
alternate run by run; the table shows medians. Figures:

- wall: seconds from spawning the app until it exits (synthesis included).
- peak tree RSS: the largest sum of resident memory over the app and all its descendants
  (the Node.js jsii kernel), sampled every 20 ms (the process tree is rescanned every 100 ms);
  a spike shorter than that can be missed.
- peak process RSS: `ru_maxrss` from `os.wait4` of the app, which is the largest peak of any
  ONE process in its tree (the app itself or a waited-for descendant), not a sum.
- installed: disk usage (like `du`) of the binding packages: `tfprod/bindings` (generated
  modules, runtime, generator and snapshots) vs the four `cdktn_provider_*` package dirs,
  whose `_jsii/*.tgz` hold the Node.js assemblies. cdktn, constructs and jsii are needed by
  both and shown once.

Beside them, a growth series: `bench/cluster_app.py`, one cluster-only stack through tfprod's
`App` (policies, alerting, gateway, controller, governance) with 1, 10, 50 and 100
deployments, each with a canary and a safety net; cold runs, medians, and the cost each added
deployment brings.

    python bench/synth.py [--runs 3] [--only tfprod|prebuilt|growth]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP = "bench/three_cloud_app.py"
GROWTH_APP = "bench/cluster_app.py"
GROWTH = (1, 10, 50, 100)
GROWTH_TARGET_SECONDS = 3.0  # for 100 deployments
PROVIDERS = ("kubernetes", "aws", "google", "azurerm")
PREBUILT = tuple(f"cdktn_provider_{name}" for name in PROVIDERS)
PREBUILT_PIP = "pip install cdktn-provider-aws cdktn-provider-google cdktn-provider-azurerm"
SHARED = ("cdktn", "constructs", "jsii")
SAMPLE_SECONDS = 0.02
TREE_EVERY = 5  # samples between rescans of /proc for new descendants (scans cost CPU)
TARGET_SECONDS = 2.5
TARGET_MB = 400
TARGET_SPEEDUP = 10
MB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Run:
    wall_seconds: float
    cpu_seconds: float
    """User plus system time of the app and the descendants it waited for (the jsii kernel)."""
    tree_rss_bytes: int
    process_rss_bytes: int


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # exited while we looked
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(flavour: str, outdir: Path, tree: Path = ROOT) -> Run:
    """One cold synthesis of `tree`'s app with `flavour` bindings into `outdir`."""
    command = [str(tree / APP), "--bindings", flavour, "--outdir", str(outdir)]
    return _measure(command, tree)


def measure_growth(deployments: int, outdir: Path, tree: Path = ROOT) -> Run:
    """One cold synthesis of `tree`'s growth app with `deployments` deployments into `outdir`."""
    command = [str(tree / GROWTH_APP), "--deployments", str(deployments), "--outdir", str(outdir)]
    return _measure(command, tree)


def _measure(command: list[str], tree: Path) -> Run:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, *command]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment
    )
    peak, tree = 0, [process.pid]
    for sample in itertools.count():
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if sample % TREE_EVERY == 0:
            tree = _descendants(process.pid)
        peak = max(peak, sum(_rss_bytes(p) for p in tree))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {process.returncode}):\n{output}")
    # Linux reports ru_maxrss in KiB.
    return Run(
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        tree_rss_bytes=peak,
        process_rss_bytes=usage.ru_maxrss * 1024,
    )


def _disk_usage(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LookupError(module)
    return Path(spec.origin).parent


def _stacks(outdir: Path) -> dict[str, Any]:
    """Each stack's JSON without cdktn's `//` metadata and the backend's absolute state path."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key != "//"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    stacks = {}
    for path in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        document = strip(json.loads(path.read_text()))
        document.get("terraform", {}).pop("backend", None)
        stacks[path.parent.name] = document
    return stacks


def _available(only: str | None) -> list[str]:
    flavours = []
    if only in (None, "tfprod"):
        missing = [p for p in PROVIDERS if importlib.util.find_spec(f"tfprod.bindings.{p}") is None]
        if missing:
            print(f"tfprod bindings missing for {', '.join(missing)}: run `make bindings`")
        else:
            flavours.append("tfprod")
    if only in (None, "prebuilt"):
        missing = [module for module in PREBUILT if importlib.util.find_spec(module) is None]
        if missing:
            print(f"prebuilt providers not installed ({', '.join(missing)}); to compare: ")
            print(f"  {PREBUILT_PIP}  (cdktn-provider-kubernetes comes with the test extra)")
        else:
            flavours.append("prebuilt")
    return flavours


def _installed(flavour: str) -> int:
    if flavour == "tfprod":
        return _disk_usage(_package_dir("tfprod.bindings"))
    return sum(_disk_usage(_package_dir(module)) for module in PREBUILT)


def main() -> int:
    parser = argparse.ArgumentParser(description="three-cloud synth: tfprod vs prebuilt bindings")
    parser.add_argument("--runs", type=int, default=3, help="cold runs per flavour (default 3)")
    parser.add_argument(
        "--only",
        choices=("tfprod", "prebuilt", "growth"),
        help="run one flavour only, or only the growth series",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout whose tfprod figures and growth series to measure alongside",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.baseline is not None and not (args.baseline / GROWTH_APP).is_file():
        parser.error(f"--baseline: {args.baseline} has no {GROWTH_APP}")
    flavours = [] if args.only == "growth" else _available(args.only)
    if not flavours and args.only != "growth":
        return 1
    trees = {"this tree": ROOT}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    runs: dict[str, list[Run]] = {flavour: [] for flavour in flavours}
    baseline_runs: list[Run] = []
    growing = args.only in (None, "growth")
    growth = {label: {count: [] for count in GROWTH if growing} for label in trees}
    outputs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="tfprod-bench-") as tmp:
        for index in range(args.runs):
            for flavour in flavours:
                outdir = Path(tmp) / f"{flavour}-{index}"
                runs[flavour].append(measure(flavour, outdir))
                outputs[flavour] = _stacks(outdir)
                if flavour == "tfprod" and args.baseline is not None:
                    outdir = Path(tmp) / f"baseline-{index}"
                    baseline_runs.append(measure(flavour, outdir, trees["baseline"]))
            for label, tree in trees.items():
                for count, measured in growth[label].items():
                    outdir = Path(tmp) / f"growth-{label}-{count}-{index}"
                    measured.append(measure_growth(count, outdir, tree))
    if runs:
        _report(runs, outputs)
    if baseline_runs:
        _report_baseline(baseline_runs, runs["tfprod"], trees["baseline"])
    if growing:
        _report_growths(growth, trees)
    return 0


def _report_growths(growth: dict[str, dict[int, list[Run]]], trees: dict[str, Path]) -> None:
    for label, tree in trees.items():
        if len(trees) > 1:
            print(f"{label}: {tree}")
        _report_growth(growth[label])
    if len(trees) > 1:
        _report_growth_ratio(growth["baseline"], growth["this tree"])


def _report_baseline(baseline: list[Run], this: list[Run], tree: Path) -> None:
    before = statistics.median(run.wall_seconds for run in baseline)
    after = statistics.median(run.wall_seconds for run in this)
    print(
        f"three-cloud app, tfprod bindings, baseline {tree}: wall {before:.2f} s, this tree"
        f" {after:.2f} s ({before / after:.2f}x)"
    )


def _report_growth_ratio(baseline: dict[int, list[Run]], this: dict[int, list[Run]]) -> None:
    cells = []
    for count, measured in baseline.items():
        before = statistics.median(run.wall_seconds for run in measured)
        after = statistics.median(run.wall_seconds for run in this[count])
        before_cpu = statistics.median(run.cpu_seconds for run in measured)
        after_cpu = statistics.median(run.cpu_seconds for run in this[count])
        cells.append(f"{count}: wall {before / after:.2f}x, cpu {before_cpu / after_cpu:.2f}x")
    print(f"growth, baseline / this tree (medians): {'; '.join(cells)}")


def _report_growth(growth: dict[int, list[Run]]) -> None:
    count = len(next(iter(growth.values())))
    print(
        "growth: one cluster stack through tfprod's App, each deployment with a canary and a"
        f" safety net; median of {count} cold run(s)"
    )
    header = ("deployments", "wall s", "cpu s", "peak tree RSS MB", "wall ms per added one")
    print("{:>11} {:>8} {:>8} {:>18} {:>22}".format(*header))
    previous: tuple[int, float] | None = None
    walls: dict[int, float] = {}
    for deployments, measured in growth.items():
        wall = statistics.median(run.wall_seconds for run in measured)
        cpu = statistics.median(run.cpu_seconds for run in measured)
        tree = statistics.median(run.tree_rss_bytes for run in measured) / MB
        walls[deployments] = wall
        step = "-"
        if previous is not None:
            step = f"{(wall - previous[1]) / (deployments - previous[0]) * 1000:.0f}"
        print(f"{deployments:>11} {wall:>8.2f} {cpu:>8.2f} {tree:>18.0f} {step:>22}")
        previous = (deployments, wall)
    if 100 in walls:
        print(
            f"growth target: 100 deployments in {walls[100]:.2f} s <= {GROWTH_TARGET_SECONDS} s:"
            f" {_verdict(walls[100] <= GROWTH_TARGET_SECONDS)}"
        )


def _report(runs: dict[str, list[Run]], outputs: dict[str, dict[str, Any]]) -> None:
    any_outputs = next(iter(outputs.values()))
    resources = sum(len(r) for s in any_outputs.values() for r in s.get("resource", {}).values())
    count = len(next(iter(runs.values())))
    print(
        f"three-cloud app: {len(any_outputs)} stacks, {resources} resources;"
        f" median of {count} cold run(s) each, python {sys.version.split()[0]}"
    )
    header = ("bindings", "wall s", "peak tree RSS MB", "peak process RSS MB", "installed MB")
    print("{:<10} {:>8} {:>18} {:>20} {:>13}".format(*header))
    medians: dict[str, tuple[float, float, float]] = {}
    for flavour, measured in runs.items():
        wall = statistics.median(run.wall_seconds for run in measured)
        tree = statistics.median(run.tree_rss_bytes for run in measured) / MB
        process = statistics.median(run.process_rss_bytes for run in measured) / MB
        size = _installed(flavour) / MB
        medians[flavour] = (wall, tree, size)
        print(f"{flavour:<10} {wall:>8.2f} {tree:>18.0f} {process:>20.0f} {size:>13.1f}")
    shared = sum(_disk_usage(_package_dir(module)) for module in SHARED) / MB
    print(f"(both also need {', '.join(SHARED)}: {shared:.1f} MB)")
    if "tfprod" in medians:
        wall, tree, _ = medians["tfprod"]
        print(
            f"tfprod targets: wall {wall:.2f} s <= {TARGET_SECONDS} s: "
            f"{_verdict(wall <= TARGET_SECONDS)}; peak {tree:.0f} MB <= {TARGET_MB} MB: "
            f"{_verdict(tree <= TARGET_MB)}"
        )
    if len(medians) == 2:
        (t_wall, t_tree, t_size), (p_wall, p_tree, p_size) = medians["tfprod"], medians["prebuilt"]
        speedup = p_wall / t_wall
        print(
            f"prebuilt / tfprod: {speedup:.1f}x wall time ({_verdict(speedup >= TARGET_SPEEDUP)}"
            f" for >= {TARGET_SPEEDUP}x), {p_tree / t_tree:.1f}x peak memory,"
            f" {p_size / t_size:.0f}x installed size"
        )
        difference = _first_difference(outputs["prebuilt"], outputs["tfprod"], "")
        verdict = f"NO, at {difference}" if difference else "yes"
        print(f"same Terraform JSON from both (ignoring // metadata): {verdict}")


def _first_difference(prebuilt: Any, tfprod: Any, path: str) -> str | None:
    """Where the two synthesized documents first differ, as `path: prebuilt != tfprod`."""
    if isinstance(prebuilt, dict) and isinstance(tfprod, dict):
        for key in sorted(prebuilt.keys() | tfprod.keys()):
            found = _first_difference(prebuilt.get(key), tfprod.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if prebuilt != tfprod:
        return f"{path.lstrip('.')}: {json.dumps(prebuilt)[:80]} != {json.dumps(tfprod)[:80]}"
    return None


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
