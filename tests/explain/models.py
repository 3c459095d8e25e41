"""A tiny real TensorFlow model whose dominant feature is known: no training, fixed weights.

y = 10 * tanh(x0 / 2) + 0.2 * tanh(x1 / 2) + 0.1 * tanh(x2 / 2), about 5 * x0 + 0.1 * x1 +
0.05 * x2 near 0: feature 0 dominates, feature 3 is ignored. The SavedModel's
`serving_default` maps `features` (float32 [None, 4]) to `prediction` (float32 [None, 1]).
"""

from __future__ import annotations

from pathlib import Path

FEATURES = 4
DOMINANT = "features_0"


def export_dominant_model(export_dir: Path) -> Path:
    import tensorflow as tf

    scale = tf.constant([[10.0], [0.2], [0.1], [0.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, FEATURES], tf.float32, name="features")])
    def serve(features: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"prediction": tf.matmul(tf.tanh(features / 2.0), scale)}

    module = tf.Module()
    module.serve = serve
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": serve})
    return export_dir
