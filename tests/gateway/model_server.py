"""Starting the real model server (`tfprod serve`, a subprocess) on a loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from examples.toy_models import FEATURES, export_tiny_classifier
from tests.services import free_port, skip_or_fail


def export_versions(root: Path, seeds: dict[int, int], *, sums: tuple[int, ...] = ()) -> Path:
    """Exports model `clf` under `root`: the tiny classifier as each `{version: seed}`, and
    the sum model as each version in `sums`; returns the model config file serving exactly
    those versions."""
    for version, seed in seeds.items():
        export_tiny_classifier(root / "clf" / str(version), seed=seed)
    for version in sums:
        export_sum_model(root / "clf" / str(version))
    versions = " ".join(f"versions: {version}" for version in sorted([*seeds, *sums]))
    config = root / "models.config"
    config.write_text(
        f"""model_config_list {{ config {{ name: "clf" base_path: "{root / "clf"}"
        model_platform: "tensorflow"
        model_version_policy {{ specific {{ {versions} }} }} }} }}"""
    )
    return config


def export_sum_model(export_dir: Path) -> Path:
    """A SavedModel whose `serving_default` maps `features` (float32 [None, 4]) to `score`,
    their sum ([None, 1]): NaN and infinite features come out as NaN and infinite predictions,
    which the trained classifier's ReLU layer would hide."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, FEATURES], tf.float32, name="features")])
    def serve(features: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"score": tf.reduce_sum(features, axis=1, keepdims=True)}

    module = tf.Module()
    module.serve = serve
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": serve})
    return export_dir


@contextmanager
def model_server(config: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Runs `tfprod serve --model_config_file=config` until the block ends (or the test kills
    it); yields the process and its REST base URL once it says it is serving."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "serve", f"--model_config_file={config}",
         "--port=0", f"--rest_api_port={port}"],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        if not process.stdout.readline().startswith("serving REST"):
            skip_or_fail(f"tfprod serve did not start (exit code {process.poll()})")
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
