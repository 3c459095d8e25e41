"""Model server latency and throughput: REST vs gRPC, single-row predict on a tiny model.

Starts `tfprod serve` as a subprocess (as the local platform does), then measures, side by
side in one run: sequential latency (p50/p99 over N requests on one keep-alive connection)
and throughput (requests/s with C concurrent requests for D seconds). Run:

    python bench/serve.py [--requests 2000] [--concurrency 16] [--seconds 3]

The client shares the machine's cores with the server, so absolute numbers are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tfprod.runtime.local.ports import free_port  # noqa: E402 - after the path is set

ROW = [0.5, -1.0, 2.0, 0.25]
BODY = json.dumps({"instances": [ROW]}).encode()


def start_server(base_path: Path, grpc_port: int, rest_port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tfprod",
            "serve",
            "--model_name=tiny",
            f"--model_base_path={base_path}",
            f"--port={grpc_port}",
            f"--rest_api_port={rest_port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert process.stdout is not None
    ready = process.stdout.readline()
    if not ready.startswith("serving"):
        process.kill()
        raise SystemExit(f"server did not start: {ready!r}")
    return process


async def latencies(call: Callable[[], Awaitable[None]], count: int) -> list[float]:
    for _ in range(min(200, count)):
        await call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def throughput(
    call: Callable[[], Awaitable[None]], concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(rest_url: str, grpc_target: str, args: argparse.Namespace) -> None:
    import aiohttp
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tiny"
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(np.array([ROW], np.float32)))
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        grpc.aio.insecure_channel(grpc_target) as channel,
    ):
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        async def rest() -> None:
            async with session.post(f"{rest_url}/v1/models/tiny:predict", data=BODY) as response:
                await response.read()
                assert response.status == 200

        async def grpc_call() -> None:
            await stub.Predict(request, timeout=10)

        rows = []
        for name, call in (("REST", rest), ("gRPC", grpc_call)):
            samples = await latencies(call, args.requests)
            rps = await throughput(call, args.concurrency, args.seconds)
            rows.append((name, statistics.median(samples), percentile(samples, 0.99), rps))
    print(
        f"single-row predict, tiny model; {args.requests} sequential requests, "
        f"{args.concurrency} concurrent for {args.seconds:g} s"
    )
    print(f"{'API':<6}{'p50 ms':>10}{'p99 ms':>10}{'rps':>10}")
    for name, p50, p99, rps in rows:
        print(f"{name:<6}{p50 * 1000:>10.3f}{p99 * 1000:>10.3f}{rps:>10.0f}")
    (_, rest_p50, _, rest_rps), (_, grpc_p50, _, grpc_rps) = rows
    print(f"REST/gRPC: p50 x{rest_p50 / grpc_p50:.2f}, rps x{rest_rps / grpc_rps:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from examples.toy_models import export_tiny_classifier

    with tempfile.TemporaryDirectory() as tmp:
        base_path = Path(tmp) / "tiny"
        export_tiny_classifier(base_path / "1")
        grpc_port, rest_port = free_port(), free_port()
        server = start_server(base_path, grpc_port, rest_port)
        try:
            import uvloop

            uvloop.run(measure(f"http://127.0.0.1:{rest_port}", f"127.0.0.1:{grpc_port}", args))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
