"""`tfprod.production` start-up, measured in fresh interpreters side by side in one run.

- import time of `from tfprod import production` alone, against `import tfprod.policy` (what
  it builds on) and `import tensorflow` (what a notebook imports anyway): median of `--imports`
  runs each;
- time from `from tfprod import production` to the first successful `deployment.predict` on
  the embedded platform, a tiny untrained Keras model built in between (its build time,
  TensorFlow's import included, is printed apart): median of `--starts` runs, each in a fresh
  `$TFPROD_HOME`, split into deploy (register: export and upload) and the platform's start.

    python bench/production_startup.py [--imports 5] [--starts 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMPORTS = {
    "tfprod.production": "from tfprod import production",
    "tfprod.policy": "import tfprod.policy",
    "tensorflow": "import tensorflow",
}
START = """
import json, time
t0 = time.perf_counter()
from tfprod import production
t_import = time.perf_counter()
import numpy as np
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.Input(shape=(4,), name="features"),
                             tf.keras.layers.Dense(1, activation="sigmoid")], name="bench")
t_model = time.perf_counter()
deployment = production.deploy(model=model, name="bench_model")
t_deploy = time.perf_counter()
deployment.predict(np.zeros((1, 4)))
t_predict = time.perf_counter()
production.shutdown()
print(json.dumps({"import": t_import - t0, "model": t_model - t_import,
                  "deploy": t_deploy - t_model, "platform": t_predict - t_deploy,
                  "total": t_predict - t0}))
"""


def _env(home: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if home is not None:
        env["TFPROD_HOME"] = home
    return env


def _run(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--imports", type=int, default=5)
    parser.add_argument("--starts", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    medians = {}
    for name, statement in IMPORTS.items():
        code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
        runs = [float(_run(code, _env())) for _ in range(args.imports)]
        medians[name] = statistics.median(runs)
        print(f"import {name}: median {medians[name]:.3f} s over {args.imports} runs")
    ours = medians["tfprod.production"]
    print(
        f"tfprod.production / tfprod.policy: {ours / medians['tfprod.policy']:.2f}x;"
        f" tfprod.production / tensorflow: {ours / medians['tensorflow']:.3f}x"
    )
    starts = []
    for _ in range(args.starts):
        with tempfile.TemporaryDirectory() as home:
            starts.append(json.loads(_run(START, _env(home))))
    for part in ("import", "model", "deploy", "platform", "total"):
        value = statistics.median(run[part] for run in starts)
        print(f"import to first predict, {part}: median {value:.2f} s over {args.starts} runs")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
