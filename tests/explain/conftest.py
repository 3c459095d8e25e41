from __future__ import annotations

from pathlib import Path

import pytest

from tests.explain.models import export_dominant_model
from tfprod.runtime.explain import ExplainableModel, load_model


@pytest.fixture(scope="session")
def dominant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_dominant_model(tmp_path_factory.mktemp("dominant") / "model")


@pytest.fixture(scope="session")
def dominant(dominant_dir: Path) -> ExplainableModel:
    return load_model(dominant_dir)
