"""Explanation cost and integrated gradients' completeness, per method, in one run.

Two real SavedModels: the tests' fixed-weight model (4 features, y = 10 tanh(x0/2) + ...) and
the examples' tiny trained classifier (4 features, Dense 8 relu + sigmoid). For each method
(lime, shap, gradients; attention_maps is gradients under another name) one row is explained
`--runs` times against a 100-row background drawn from a reference profile (as the explainer
uses a registered version's profile); the first call (imports, tracing) is reported apart and
left out of the median. Completeness error of integrated gradients: median and largest over
the rows explained, with the background's mean as the baseline and with zeros.

    PYTHONPATH=. .venv/bin/python bench/explain.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from examples.toy_models import export_tiny_classifier
from tests.explain.models import export_dominant_model
from tfprod.runtime.explain import (
    ExplainableModel,
    explain_rows,
    load_model,
    profile_background,
    zero_background,
)
from tfprod.runtime.registry import build_profile

METHODS = ("lime", "shap", "gradients")


def measure(model: ExplainableModel, rows: np.ndarray, runs: int) -> None:
    profile = build_profile(np.random.default_rng(2).normal(size=(5000, 4)), drift_edges=499)
    background = profile_background(profile, model.feature_names)
    assert background is not None
    print(f"{'method':<10} {'first call ms':>14} {'median ms':>10} {'p90 ms':>8}  n={runs}")
    for method in METHODS:
        started = time.perf_counter()
        explain_rows(model, rows[:1], method, background, version="")
        first = (time.perf_counter() - started) * 1000
        times = []
        for index in range(runs):
            started = time.perf_counter()
            explain_rows(model, rows[index : index + 1], method, background, version="")
            times.append((time.perf_counter() - started) * 1000)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"{method:<10} {first:>14.1f} {statistics.median(times):>10.1f} {p90:>8.1f}")
    for name, base in (("background mean", background), ("zeros", zero_background(4))):
        errors = [
            explain_rows(model, rows[i : i + 1], "gradients", base, version="")[
                0
            ].completeness_error
            for i in range(runs)
        ]
        values = [e for e in errors if e is not None]
        print(
            f"integrated gradients completeness error, baseline {name}:"
            f" median {statistics.median(values):.2e}, max {max(values):.2e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = np.random.default_rng(5).normal(size=(runs, 4))
    with tempfile.TemporaryDirectory() as work:
        for title, export in (
            ("fixed-weight model (tests/explain/models.py)", export_dominant_model),
            ("tiny trained classifier (examples/toy_models.py)", export_tiny_classifier),
        ):
            model = load_model(export(Path(work) / title.split()[0]))
            print(f"\n{title}")
            measure(model, rows, runs)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
