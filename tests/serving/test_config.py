"""Server configuration: flags and `--model_config_file`, checked before anything loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving.conftest import Models
from tfprod.runtime.serving import (
    ModelConfig,
    ServerConfig,
    ServingConfigError,
    VersionPolicy,
    parse_model_config_text,
)
from tfprod.runtime.serving.models import load_models


def test_config_file_reads_policies_and_labels() -> None:
    text = """
    model_config_list {
      config { name: "a" base_path: "/m/a" model_platform: "tensorflow"
               model_version_policy { specific { versions: 2 versions: 1 } }
               version_labels { key: "stable" value: 1 } }
      config { name: "b" base_path: "/m/b" model_version_policy { all {} } }
      config { name: "c" base_path: "/m/c" model_version_policy { latest { num_versions: 2 } } }
      config { name: "d" base_path: "/m/d" }
    }
    """
    assert parse_model_config_text(text, source="models.config") == (
        ModelConfig(
            name="a",
            base_path=Path("/m/a"),
            version_policy=VersionPolicy(latest=None, specific=(2, 1)),
            version_labels=(("stable", 1),),
        ),
        ModelConfig(
            name="b",
            base_path=Path("/m/b"),
            version_policy=VersionPolicy(latest=None, all_versions=True),
        ),
        ModelConfig(name="c", base_path=Path("/m/c"), version_policy=VersionPolicy(latest=2)),
        ModelConfig(name="d", base_path=Path("/m/d")),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'model_config_list { config { name: "a" base_path: "/m" model_platform: "onnx" } }',
            "models.config: model 'a': model_platform 'onnx' is not supported; "
            "allowed: 'tensorflow'",
        ),
        (
            'model_config_list { config { name: "a" } }',
            "models.config: model 'a': base_path is empty",
        ),
        ("custom_model_config {}", "models.config: expected a model_config_list"),
    ],
)
def test_config_file_mistakes_name_the_model(text: str, message: str) -> None:
    with pytest.raises(ServingConfigError) as caught:
        parse_model_config_text(text, source="models.config")
    assert str(caught.value) == message


def test_server_config_refuses_duplicate_names_and_no_endpoint() -> None:
    model = ModelConfig(name="a", base_path=Path("/m"))
    with pytest.raises(ServingConfigError) as caught:
        ServerConfig(models=(model, model))
    assert str(caught.value) == "model names must be unique, got ['a'] twice"
    with pytest.raises(ServingConfigError) as caught:
        ServerConfig(models=(model,), port=0)
    assert str(caught.value) == "both --port and --rest_api_port are 0: nothing to serve"


@pytest.mark.slow
def test_labels_must_point_at_served_versions(models: Models) -> None:
    config = ModelConfig(name="tiny", base_path=models.tiny, version_labels=(("stable", 1),))
    with pytest.raises(ServingConfigError) as caught:
        load_models((config,))
    assert str(caught.value) == (
        "model 'tiny': version label 'stable' points at version 1, which is not served; "
        "served versions: [2]"
    )


@pytest.mark.slow
def test_specific_versions_must_exist(models: Models) -> None:
    config = ModelConfig(
        name="tiny",
        base_path=models.tiny,
        version_policy=VersionPolicy(latest=None, specific=(1, 3)),
    )
    with pytest.raises(ServingConfigError) as caught:
        load_models((config,))
    assert str(caught.value) == (
        f"model 'tiny': versions [3] requested by the version policy are missing under "
        f"'{models.tiny}'; available: [1, 2]"
    )


def test_base_path_without_versions_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServingConfigError) as caught:
        load_models((ModelConfig(name="m", base_path=tmp_path),))
    assert str(caught.value) == (
        f"model 'm': no numeric version directories under '{tmp_path}' "
        f"(expected e.g. '{tmp_path / '1'}')"
    )
