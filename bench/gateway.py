"""Gateway overhead, measured side by side: the model server called directly vs through
`tfprod gateway`, in one run.

Prints, per upstream: added p50/p99 latency at fixed request rates (open loop: each request is
scheduled at its slot and timed from the slot, so a stalled server cannot hide its queue),
maximum throughput (closed loop, fixed concurrency), and, while the load runs at 500 rps,
requests lost during 100 weight changes written to the status document (as the controller
writes it) and the time from each status write to every gateway replica serving it. Every
latency and throughput figure is the median over `--repeats`, with direct and gateway runs
interleaved.

Every server and the load generator run in processes of their own: the upstream, two gateway
replicas (`python -m tfprod gateway --policies ... --status-dir ...`, status following on, at
its default poll interval), a third gateway following nothing (`--config`, the same routes) so
that the cost of following is measured side by side, and a uvloop + aiohttp load generator
(this file, `--loadgen`).

Upstreams:
  serve   the real model server (`tfprod serve`) with the tiny test classifier (trained here);
  static  a fixed-answer TF Serving-shaped server, so the gateway itself is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tfprod.policy import (
    Policy,
    next_status,
    policy_digest,
    policy_json,
    read_status,
    status_file_name,
    write_status,
)
from tfprod.runtime.gateway.follow import DEFAULT_POLL_SECONDS
from tfprod.runtime.local.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"instances": [[1.0, 2.0, 3.0, 4.0]]}'
PREDICT = "/v1/models/clf:predict"
TARGETS = {
    "p50_added_ms_500": 0.7,
    "p99_added_ms_500": 2.0,
    "max_rps_gateway": 2000.0,
    "lost_during_weight_changes": 0,
}


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: up
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up in {timeout} s")


@contextmanager
def process(args: list[str], url: str) -> Iterator[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(url, child)
        yield child.pid
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# -- upstreams ----------------------------------------------------------------------------


def static_upstream(port: int) -> None:
    """A fixed-answer TF Serving-shaped server (bench-only; measures the gateway's ceiling)."""
    import uvloop
    from aiohttp import web

    answer = b'{"predictions": [[0.679178699175393]]}'

    async def predict(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=answer, content_type="application/json")

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"model_version_status": [{"version": "1"}]})

    app = web.Application()
    app.router.add_post("/v1/models/{tail:.+}", predict)
    app.router.add_get("/v1/models/{name}", status)
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, loop=uvloop.new_event_loop()
    )


@contextmanager
def upstream(kind: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if kind == "static":
        args = [sys.executable, __file__, "--static-upstream", str(port)]
    else:
        base = workdir / "clf"
        if not (base / "1").exists():  # train and export in a child: TensorFlow logs stay there
            code = (
                "import sys; from pathlib import Path; from examples.toy_models import "
                "export_tiny_classifier as e; e(Path(sys.argv[1]))"
            )
            subprocess.run(
                [sys.executable, "-c", code, str(base / "1")],
                check=True,
                cwd=ROOT,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        args = [
            sys.executable,
            "-m",
            "tfprod",
            "serve",
            "--model_name",
            "clf",
            "--model_base_path",
            str(base),
            "--rest_api_port",
            str(port),
            "--port",
            "0",
        ]
    with process(args, f"{url}/v1/models/clf"):
        yield url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_policy() -> Policy:
    artifact = "file:///bench/models/clf/versions/{}"
    return Policy.model_validate(
        {
            "name": "clf",
            "environment": "staging",
            "model": "clf",
            "versions": [
                {"id": "stable", "artifact": artifact.format("stable"), "role": "stable"},
                {"id": "canary", "artifact": artifact.format("canary"), "role": "canary"},
            ],
            "traffic": {"weights": {"stable": 90, "canary": 10}},
        }
    )


@contextmanager
def gateways(upstream_url: str, workdir: Path, count: int) -> Iterator[list[tuple[str, int]]]:
    """`count` gateway replicas following one status directory, as `tfprod up` lays it out."""
    policies = workdir / "policies"
    (policies / "clf").mkdir(parents=True, exist_ok=True)
    (policies / "clf" / "policy.json").write_text(policy_json(bench_policy()))
    endpoints = {"stable": upstream_url, "canary": upstream_url}
    (policies / "clf" / "endpoints.json").write_text(json.dumps(endpoints))
    status_dir = workdir / "status"
    (status_dir / status_file_name("clf")).unlink(missing_ok=True)
    with ExitStack() as stack:
        replicas = []
        for _ in range(count):
            port = free_port()
            args = [
                sys.executable, "-m", "tfprod", "gateway", "--policies", str(policies),
                "--status-dir", str(status_dir), "--admin-token-file", str(workdir / "token"),
                "--port", str(port),
            ]  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            replicas.append((url, stack.enter_context(process(args, f"{url}/v1/models/clf"))))
        yield replicas


@contextmanager
def plain_gateway(upstream_url: str, workdir: Path) -> Iterator[str]:
    """A gateway from a `--config` file: follows nothing (the same routes, for comparison)."""
    config = {
        "routes": [
            {
                "model": "clf",
                "variants": [
                    {"name": "stable", "url": upstream_url, "weight": 0.9},
                    {"name": "canary", "url": upstream_url, "weight": 0.1},
                ],
            }
        ]
    }
    path = workdir / "plain-gateway.json"
    path.write_text(json.dumps(config))
    port = free_port()
    args = [sys.executable, "-m", "tfprod", "gateway", "--config", str(path), "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with process(args, f"{url}/v1/models/clf"):
        yield url


# -- load generator (runs in its own process) -------------------------------------------------


async def open_loop(
    url: str, rate: float, seconds: float, stop_file: str | None = None
) -> dict[str, Any]:
    """Sends `rate` requests per second on a fixed schedule; latency counts from the slot.
    Stops early once `stop_file` exists."""
    import aiohttp

    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm the connection pool
            async with session.post(url, data=BODY) as answer:
                await answer.read()

        async def one(slot: float) -> None:
            nonlocal failures
            try:
                async with session.post(url, data=BODY) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - slot)
            else:
                failures += 1

        tasks = []
        start = time.perf_counter() + 0.05
        for i in range(int(rate * seconds)):
            if stop_file is not None and i % 50 == 0 and os.path.exists(stop_file):
                break
            slot = start + i / rate
            delay = slot - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(slot)))
        await asyncio.gather(*tasks)
    latencies.sort()
    return {
        "sent": len(tasks),
        "failures": failures,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


async def closed_loop(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    done = 0
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, failures
            while time.perf_counter() < end:
                async with session.post(url, data=BODY) as answer:
                    await answer.read()
                    done += answer.status == 200
                    failures += answer.status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"rps": done / elapsed, "failures": failures}


def loadgen(args: argparse.Namespace) -> None:
    import uvloop

    if args.mode == "open":
        result = uvloop.run(open_loop(args.url, args.rate, args.seconds, args.stop_file))
    else:
        result = uvloop.run(closed_loop(args.url, args.concurrency, args.seconds))
    print(json.dumps(result))


def run_loadgen(*extra: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--loadgen", *extra], check=True, capture_output=True
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def start_loadgen(*extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--loadgen", *extra], stdout=subprocess.PIPE)


# -- the benchmark ----------------------------------------------------------------------------


def admin_generation(url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{url}/admin/v1/state", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        generation: int = json.loads(answer.read())["models"]["clf"]["generation"]
    return generation


def weight_flips(replicas: list[str], rate: float, token: str, workdir: Path) -> dict[str, Any]:
    """100 weight changes written to the status document (as the controller writes it) while
    the load generator sends `rate` rps to the first replica; after each write, waits until
    every replica reports the new generation and records how long that took."""
    stop_file = workdir / "stop-load"
    stop_file.unlink(missing_ok=True)
    load = start_loadgen(
        "--mode", "open", "--url", replicas[0] + PREDICT, "--rate", str(rate),
        "--seconds", "300", "--stop-file", str(stop_file),
    )  # fmt: skip
    time.sleep(0.5)
    status_file = workdir / "status" / status_file_name("clf")
    digest = policy_digest(bench_policy())
    seconds: list[float] = []
    jitter = random.Random(7)
    for i in range(100):
        canary = (i % 10) * 10
        # A controller writes at any point of the replicas' poll cycle, not just after a poll.
        time.sleep(jitter.uniform(0, DEFAULT_POLL_SECONDS))
        started = time.perf_counter()
        status = next_status(
            read_status(status_file),
            deployment="clf",
            weights={"stable": 100 - canary, "canary": canary},
            policy=digest,
            writer="bench",
        )
        write_status(status_file, status)
        waiting = set(replicas)
        while waiting:
            waiting = {url for url in waiting if admin_generation(url, token) != status.generation}
            if waiting:
                time.sleep(0.005)
        seconds.append(time.perf_counter() - started)
    stop_file.touch()
    output, _ = load.communicate(timeout=120)
    result: dict[str, Any] = json.loads(output)
    return {
        "weight_changes": len(seconds),
        "sent": result["sent"],
        "lost": result["failures"],
        "propagation_median_ms": 1000 * statistics.median(seconds),
        "propagation_max_ms": 1000 * max(seconds),
    }


def measure(kind: str, rates: list[int], repeats: int, seconds: float, workdir: Path) -> None:
    token = os.urandom(16).hex()
    (workdir / "token").write_text(token)
    with (
        upstream(kind, workdir) as direct,
        gateways(direct, workdir, 2) as replicas,
        plain_gateway(direct, workdir) as plain,
    ):
        through, pid = replicas[0]
        targets = {
            "direct": direct + PREDICT,
            "gateway": through + PREDICT,
            "unfollowing": plain + PREDICT,
        }
        print(f"\n## upstream: {kind}  ({repeats} repeats, {seconds:g} s each, medians)\n")
        print(
            "gateway: status following on (the targets' figure); without: the same routes from"
            " --config, following nothing; following costs = gateway - without\n"
        )
        print(
            "| rate rps | p50 direct ms | p50 gateway ms | p50 added ms "
            "| p99 direct ms | p99 gateway ms | p99 added ms | failures "
            "| p50 without ms | p99 without ms | following costs p50/p99 ms |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        added: dict[str, float] = {}
        for rate in rates:
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
            for _ in range(repeats):
                for name, url in targets.items():
                    runs[name].append(
                        run_loadgen(
                            "--mode",
                            "open",
                            "--url",
                            url,
                            "--rate",
                            str(rate),
                            "--seconds",
                            str(seconds),
                        )
                    )
            med = {
                (name, key): statistics.median(r[key] for r in results)
                for name, results in runs.items()
                for key in ("p50_ms", "p99_ms")
            }
            failures = sum(r["failures"] for results in runs.values() for r in results)
            p50_added = med[("gateway", "p50_ms")] - med[("direct", "p50_ms")]
            p99_added = med[("gateway", "p99_ms")] - med[("direct", "p99_ms")]
            added[f"p50_added_ms_{rate}"], added[f"p99_added_ms_{rate}"] = p50_added, p99_added
            print(
                f"| {rate} | {med[('direct', 'p50_ms')]:.3f} | {med[('gateway', 'p50_ms')]:.3f}"
                f" | {p50_added:.3f} | {med[('direct', 'p99_ms')]:.3f}"
                f" | {med[('gateway', 'p99_ms')]:.3f} | {p99_added:.3f} | {failures}"
                f" | {med[('unfollowing', 'p50_ms')]:.3f} | {med[('unfollowing', 'p99_ms')]:.3f}"
                f" | {med[('gateway', 'p50_ms')] - med[('unfollowing', 'p50_ms')]:.3f}"
                f" / {med[('gateway', 'p99_ms')] - med[('unfollowing', 'p99_ms')]:.3f} |"
            )
        rps: dict[str, list[float]] = {"direct": [], "gateway": []}
        non_200 = 0
        cpu_per_request: list[float] = []
        for _ in range(repeats):
            for name, measured in rps.items():
                url = targets[name]
                cpu_before = cpu_seconds(pid)
                result = run_loadgen(
                    "--mode",
                    "closed",
                    "--url",
                    url,
                    "--concurrency",
                    "32",
                    "--seconds",
                    str(seconds),
                )
                measured.append(result["rps"])
                non_200 += result["failures"]
                if name == "gateway":
                    requests = result["rps"] * seconds
                    cpu_per_request.append((cpu_seconds(pid) - cpu_before) / requests)
        max_direct, max_gateway = (statistics.median(rps[n]) for n in ("direct", "gateway"))
        added["max_rps_gateway"] = max_gateway
        cpu_us = 1e6 * statistics.median(cpu_per_request)
        print(
            f"\nmax throughput (32 concurrent): direct {max_direct:.0f} rps,"
            f" gateway {max_gateway:.0f} rps ({max_gateway / max_direct:.0%} of direct);"
            f" gateway CPU {cpu_us:.0f} us per request (one core: {1e6 / cpu_us:.0f} rps);"
            f" {non_200} non-200 answers"
        )
        flips = weight_flips([url for url, _pid in replicas], 500, token, workdir)
        print(
            f"status-document weight changes under load (500 rps): {flips['weight_changes']}"
            f" changes, {flips['sent']} requests, {flips['lost']} lost; status write to every"
            f" replica ({len(replicas)}) serving it: median"
            f" {flips['propagation_median_ms']:.0f} ms, max {flips['propagation_max_ms']:.0f} ms"
        )
        added["lost_during_weight_changes"] = flips["lost"]
        print("\ntargets (500 rps, this machine):")
        for key, target in TARGETS.items():
            if key not in added:
                continue
            value = added[key]
            met = value >= target if key.startswith("max") else value <= target
            unit = "rps" if key.startswith("max") else "ms" if "_ms_" in key else "requests"
            relation = ">=" if key.startswith("max") else "<="
            print(
                f"  {key}: {value:.3f} {unit} (target {relation} {target:g}):"
                f" {'met' if met else 'MISSED'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", choices=["serve", "static", "both"], default="both")
    parser.add_argument("--rates", default="100,500", help="comma-separated fixed rates (rps)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--static-upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["open", "closed"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stop-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        loadgen(args)
        return
    if args.static_upstream:
        static_upstream(args.static_upstream)
        return
    rates = [int(r) for r in args.rates.split(",")]
    kinds = ["static", "serve"] if args.upstream == "both" else [args.upstream]
    print(f"# gateway benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="tfprod-bench-gateway-") as workdir:
        for kind in kinds:
            measure(kind, rates, args.repeats, args.seconds, Path(workdir))


if __name__ == "__main__":
    main()
