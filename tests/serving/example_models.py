"""A tiny model with classify and regress signatures over serialized `tf.Example`s.

TF2's `tf.saved_model.save` marks every signature as a predict signature; estimator-era models
(the ones TF Serving's `:classify`/`:regress` exist for) carry the classify/regress method
names, so the export rewrites `method_name` in saved_model.pb to match them.
"""

from __future__ import annotations

from pathlib import Path

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def export_example_model(export_dir: Path) -> Path:
    """`serving_default` classifies (classes ["neg", "pos"], scores [1 - p, p] with
    p = sigmoid(x)); `regress` returns 2 * x + 1. Features: `x` (float, required)."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    spec = {"x": tf.io.FixedLenFeature([1], tf.float32)}

    class ExampleModel(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs: tf.Tensor) -> dict[str, tf.Tensor]:
            x = tf.io.parse_example(inputs, spec)["x"]
            probability = tf.sigmoid(x)
            classes = tf.tile(tf.constant([["neg", "pos"]]), [tf.shape(x)[0], 1])
            return {"classes": classes, "scores": tf.concat([1 - probability, probability], 1)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def regress(self, inputs: tf.Tensor) -> dict[str, tf.Tensor]:
            x = tf.io.parse_example(inputs, spec)["x"]
            return {"outputs": 2 * x[:, 0] + 1}

    module = ExampleModel()
    tf.saved_model.save(
        module,
        str(export_dir),
        signatures={"serving_default": module.classify, "regress": module.regress},
    )
    proto_path = export_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(proto_path.read_bytes())
    signatures = saved_model.meta_graphs[0].signature_def
    signatures["serving_default"].method_name = CLASSIFY_METHOD
    signatures["regress"].method_name = REGRESS_METHOD
    proto_path.write_bytes(saved_model.SerializeToString())
    return export_dir
