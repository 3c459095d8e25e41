"""The TF Serving URL grammar the gateway and the model server share."""

from __future__ import annotations

import pytest

from tfprod.runtime.tfserving_api import ModelPath, parse_prediction_path, parse_status_path


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("/v1/models/clf:predict", ModelPath(name="clf", verb="predict")),
        ("/v1/models/clf/versions/12:classify",
         ModelPath(name="clf", version="12", verb="classify")),
        ("/v1/models/clf/labels/stable:regress",
         ModelPath(name="clf", label="stable", verb="regress")),
        ("/V1/MODELS/clf:PREDICT", ModelPath(name="clf", verb="PREDICT")),
        ("/v1/models/my%20model:predict", ModelPath(name="my model", verb="predict")),
        ("/v1/models/clf:explode", None),
        ("/v1/models/clf/versions/v2:predict", None),
        ("/v1/models/clf/versions/1/labels/x:predict", None),
        ("/v1/models/clf", None),
    ],
)  # fmt: skip
def test_prediction_paths(path: str, parsed: ModelPath | None) -> None:
    assert parse_prediction_path(path) == parsed


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("/v1/models", ModelPath(name="")),
        ("/v1/models/clf", ModelPath(name="clf")),
        ("/v1/models/clf/versions/3", ModelPath(name="clf", version="3")),
        ("/v1/models/clf/labels/canary/metadata",
         ModelPath(name="clf", label="canary", metadata=True)),
        ("/v1/models/clf/metadata", ModelPath(name="clf", metadata=True)),
        ("/v1/models/clf:predict", None),
        ("/v1/models/clf/other", None),
    ],
)  # fmt: skip
def test_status_paths(path: str, parsed: ModelPath | None) -> None:
    assert parse_status_path(path) == parsed
