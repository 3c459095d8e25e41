"""Building blocks shared by the policy tests."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError


def minimal_policy(**overrides: Any) -> dict[str, Any]:
    """A valid policy document as plain JSON data: one stable version taking all traffic."""
    document: dict[str, Any] = {
        "name": "recommendation-engine",
        "environment": "production",
        "model": "rec",
        "versions": [
            {"id": "rec-v2.0.0", "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
            {"id": "rec-v2.1.0", "artifact": "s3://models/rec/v2.1.0", "role": "canary"},
        ],
        "traffic": {"weights": {"rec-v2.0.0": 95, "rec-v2.1.0": 5}},
    }
    document.update(overrides)
    return document


def only_error(excinfo: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    """The field path and message of the one error a ValidationError holds."""
    errors = excinfo.value.errors()
    assert len(errors) == 1, errors
    path = ".".join(str(part) for part in errors[0]["loc"])
    return path, errors[0]["msg"]
