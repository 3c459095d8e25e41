"""Model status and metadata responses, built as TF Serving's protos for both front ends."""

from __future__ import annotations

from typing import Any

from tfprod.runtime.serving.errors import invalid_argument
from tfprod.runtime.serving.models import ModelManager

SIGNATURE_DEF_FIELD = "signature_def"
_AVAILABLE = 30  # ModelVersionStatus.State.AVAILABLE


def model_status(manager: ModelManager, name: str, version: int | None) -> Any:
    """A `GetModelStatusResponse`. Like TF Serving, a version label is ignored here."""
    from tensorflow_serving.apis import get_model_status_pb2

    if not name:
        raise invalid_argument("Missing model name in request.")
    response = get_model_status_pb2.GetModelStatusResponse()
    for number in manager.version_states(name, version):
        entry = response.model_version_status.add()
        entry.version = number
        entry.state = _AVAILABLE
        entry.status.SetInParent()
    return response


def model_metadata(
    manager: ModelManager,
    name: str,
    version: int | None,
    label: str | None,
    fields: list[str],
) -> Any:
    """A `GetModelMetadataResponse` with the `signature_def` field, the only one TF Serving has."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    if not fields:
        raise invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
    for field in fields:
        if field != SIGNATURE_DEF_FIELD:
            raise invalid_argument(f"Metadata field {field} is not supported")
    servable = manager.resolve(name, version, label)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = servable.model_name
    response.model_spec.version.value = servable.version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature_def in servable.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature_def)
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
    return response


def status_json(response: Any) -> bytes:
    from google.protobuf import json_format

    text: str = json_format.MessageToJson(
        response, always_print_fields_with_no_presence=True, indent=1
    )
    return text.encode()


def metadata_json(response: Any) -> bytes:
    """Concatenated as TF Serving does, so `metadata.signature_def` is the SignatureDefMap."""
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2

    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
    options: dict[str, Any] = {
        "always_print_fields_with_no_presence": True,
        "preserving_proto_field_name": True,
        "indent": 1,
    }
    spec: str = json_format.MessageToJson(response.model_spec, **options)
    signatures: str = json_format.MessageToJson(signature_map, **options)
    text = '{\n"model_spec":' + spec + ',\n"metadata": {"signature_def": ' + signatures + "}\n}\n"
    return text.encode()
