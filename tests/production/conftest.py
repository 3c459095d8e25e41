"""Tiny real Keras models, a fresh `$TFPROD_HOME` per test, and the session shut down after."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tfprod import production

FEATURES = 4
T = TypeVar("T")


def tiny_model(seed: int, *, name: str = "recommender") -> Any:
    """A 4-feature binary classifier trained for one epoch on synthetic data (about a second)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, FEATURES)).astype("float32")
    y = (x @ np.array([1.0, -0.5, 0.25, 0.0], dtype="float32") > 0).astype("float32")
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(FEATURES,), name="features"),
            tf.keras.layers.Dense(4, activation="relu"),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ],
        name=name,
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`$TFPROD_HOME` in a fresh directory; the session is shut down after the test."""
    monkeypatch.setenv("TFPROD_HOME", str(tmp_path / "home"))
    for variable in ("TFPROD_CONTROLLER_URL", "TFPROD_GATEWAY_URL"):
        monkeypatch.delenv(variable, raising=False)
    production.shutdown()
    yield tmp_path / "home"
    production.shutdown()


def wait_for(read: Callable[[], T], done: Callable[[T], bool], *, what: str, seconds: float) -> T:
    """`read()` once `done` holds for it; the test fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s; last seen {value!r}")
        time.sleep(0.2)
