"""What the registry reads from a SavedModel without loading it: its serving signatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tfprod.runtime.registry.errors import RegistryError

SAVED_MODEL_FILE = "saved_model.pb"


def check_saved_model_dir(path: Path) -> None:
    if not path.is_dir() or not (path / SAVED_MODEL_FILE).is_file():
        raise RegistryError(f"{path} is not a SavedModel directory: it has no {SAVED_MODEL_FILE}")


def save_model(model: Any, export_dir: Path) -> None:
    """Exports a trackable TensorFlow object (a `tf.Module`, or a model loaded with
    `tf.saved_model.load`) with the signatures it carries."""
    import tensorflow as tf

    tf.saved_model.save(model, str(export_dir))


def read_signatures(export_dir: Path) -> dict[str, Any]:
    """Each signature of the serving meta graph: its inputs and outputs with dtype and shape
    (-1 for an unknown dimension, null for an unknown rank). Parsing the protobuf needs
    TensorFlow's message classes, not a TensorFlow session."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((export_dir / SAVED_MODEL_FILE).read_bytes())
    signatures: dict[str, Any] = {}
    for meta_graph in saved_model.meta_graphs:
        if "serve" not in meta_graph.meta_info_def.tags:
            continue
        for name, definition in sorted(meta_graph.signature_def.items()):
            if name.startswith("__"):  # TensorFlow's internal saver signatures
                continue
            signatures[name] = {
                "inputs": _tensors(definition.inputs),
                "outputs": _tensors(definition.outputs),
            }
    return signatures


def _tensors(tensors: Any) -> dict[str, Any]:
    from tensorflow.core.framework import types_pb2

    described: dict[str, Any] = {}
    for key, info in sorted(tensors.items()):
        shape = (
            None if info.tensor_shape.unknown_rank else [dim.size for dim in info.tensor_shape.dim]
        )
        dtype = types_pb2.DataType.Name(info.dtype).removeprefix("DT_").lower()
        described[key] = {"dtype": dtype, "shape": shape}
    return described
