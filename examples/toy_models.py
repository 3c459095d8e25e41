"""Tiny real TensorFlow models for the demo and the tests: trained in about a second each.

The demo and every test that needs a model use these, so all train them the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

FEATURES = 4


def training_features(*, seed: int = 0) -> np.ndarray[Any, Any]:
    """The inputs `export_tiny_classifier(seed=seed)` trains on: 512 rows x `FEATURES`
    float32 columns. The example stacks give them to `DriftDetector` as reference data."""
    import numpy as np

    return np.random.default_rng(seed).normal(size=(512, FEATURES)).astype("float32")


def export_tiny_classifier(export_dir: Path, *, seed: int = 0, epochs: int = 3) -> Path:
    """Trains a 4-feature binary classifier on synthetic data and exports it to `export_dir`
    as a SavedModel whose `serving_default` signature maps `features` (float32 [None, 4])
    to `probability` (float32 [None, 1]). Different seeds give models that disagree a little."""
    import numpy as np
    import tensorflow as tf

    x = training_features(seed=seed)
    y = (x @ np.array([1.0, -0.5, 0.25, 0.0], dtype="float32") > 0).astype("float32")
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(FEATURES,), name="features"),
            tf.keras.layers.Dense(8, activation="relu"),
            tf.keras.layers.Dense(1, activation="sigmoid", name="probability"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None, FEATURES], tf.float32, name="features")])
    def serve(features: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probability": model(features)}

    module = tf.Module()
    module.model = model
    module.serve = serve
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": serve})
    return export_dir
