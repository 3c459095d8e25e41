"""Models trained once per session, and a model server per test module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from examples.toy_models import export_tiny_classifier
from tests.services import free_port
from tests.serving.example_models import export_example_model
from tfprod.runtime.serving import (
    ModelServerHandle,
    ServerConfig,
    parse_model_config_text,
    start_model_server,
)


@dataclass(frozen=True, kw_only=True)
class Models:
    tiny: Path
    """Base path with versions 1 (seed 0) and 2 (seed 1) of the tiny classifier."""
    examples: Path
    """Base path with version 1 of the classify/regress example model."""


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("models")
    export_tiny_classifier(root / "tiny" / "1", seed=0)
    export_tiny_classifier(root / "tiny" / "2", seed=1)
    export_example_model(root / "examples" / "1")
    return Models(tiny=root / "tiny", examples=root / "examples")


def config_text(models: Models) -> str:
    return f"""
model_config_list {{
  config {{
    name: "tiny"
    base_path: "{models.tiny}"
    model_platform: "tensorflow"
    model_version_policy {{ specific {{ versions: 1 versions: 2 }} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
  config {{
    name: "examples"
    base_path: "{models.examples}"
    model_platform: "tensorflow"
  }}
}}
"""


@pytest.fixture(scope="module")
def server(models: Models) -> Iterator[ModelServerHandle]:
    """Both models, REST and gRPC, with a 64 KiB body limit so oversize tests stay small."""
    config = ServerConfig(
        models=parse_model_config_text(config_text(models), source="test config"),
        port=free_port(),
        rest_api_port=free_port(),
        max_request_bytes=64 * 1024,
    )
    with start_model_server(config) as handle:
        yield handle
