"""Drift check cost: tfprod's vectorized check vs scipy's exact `ks_2samp` per feature.

A 100,000-row reference x 20 features against a 10,000-row window (10 features shifted a
little, 10 not), in one run: medians of repeated checks, the ratio, and whether both flag the
same features (Holm at alpha 0.05 on each method's own p-values). Then streaming throughput:
TF Serving request bodies (50 rows each) through the gateway monitor's path (parse into rows,
add to the window, check), in feature values per second. Evidently is not measured: DESIGN.md
records it at about 2.4 s a check, 1 GB installed and failing to import with pandas 3.

    PYTHONPATH=. .venv/bin/python bench/drift.py
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np
from scipy import stats

from tfprod.runtime.drift import DriftReference, Window, holm
from tfprod.runtime.drift.records import request_rows

FEATURES, REFERENCE_ROWS, WINDOW_ROWS = 20, 100_000, 10_000


def median_ms(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    rng = np.random.default_rng(0)
    reference_data = rng.normal(size=(REFERENCE_ROWS, FEATURES))
    window = rng.normal(size=(FEATURES, WINDOW_ROWS))
    window[:10] += np.linspace(0.0, 0.1, 10)[:, None]
    started = time.perf_counter()
    reference = DriftReference.fit(reference_data)
    print(f"fit: {(time.perf_counter() - started) * 1000:.0f} ms (once per profile)")

    tfprod_ms = median_ms(lambda: reference.check(window), 50)
    scipy_ms = median_ms(
        lambda: [stats.ks_2samp(reference_data[:, i], window[i]) for i in range(FEATURES)], 5
    )
    report = reference.check(window)
    exact = [stats.ks_2samp(reference_data[:, i], window[i]) for i in range(FEATURES)]
    exact_flags = holm(np.array([r.pvalue for r in exact])) < reference.alpha
    ours = np.array([f.drifted for f in report.features])
    gap = max(abs((f.ks or 0) - r.statistic) for f, r in zip(report.features, exact, strict=True))
    print(f"tfprod check (PSI + binned KS, 20 features): {tfprod_ms:.2f} ms median")
    print(f"scipy ks_2samp x 20: {scipy_ms:.1f} ms median; ratio {scipy_ms / tfprod_ms:.0f}x")
    print(f"largest |binned KS - exact KS|: {gap:.5f}")
    print(
        f"same decisions as exact KS: {bool((ours == exact_flags).all())}"
        f" (flagged: tfprod {int(ours.sum())}, scipy {int(exact_flags.sum())})"
    )

    bodies = [
        json.dumps({"instances": rng.normal(size=(50, FEATURES)).tolist()}) for _ in range(2_000)
    ]
    live = Window(FEATURES, seconds=3600.0)
    started = time.perf_counter()
    for body in bodies:
        rows = request_rows(body, reference.names, reference.encode, numeric=True)
        assert rows is not None
        live.add(rows, time.time())
    reference.check(live.snapshot(time.time()))
    seconds = time.perf_counter() - started
    values = len(bodies) * 50 * FEATURES
    print(f"streaming capture -> drift: {values / seconds / 1e6:.2f} M feature values/s")


if __name__ == "__main__":
    main()
