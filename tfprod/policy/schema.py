"""The JSON Schemas of the Policy and the status document, committed next to this module as
`policy.schema.json` and `status.schema.json`.

Regenerate after changing a model: `python -m tfprod.policy.schema`; a test fails while a
committed file is stale. `tfprod policy schema` prints the Policy's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tfprod.policy.document import SCHEMA_VERSION, Policy
from tfprod.policy.status import DeploymentStatus

SCHEMA_PATH = Path(__file__).with_name("policy.schema.json")
STATUS_SCHEMA_PATH = Path(__file__).with_name("status.schema.json")


def _schema(model: type[BaseModel], file_name: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://{SCHEMA_VERSION}/{file_name}",
        **model.model_json_schema(),
    }


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a Policy document as read: written forms are accepted too."""
    return _schema(Policy, SCHEMA_PATH.name)


def status_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a status document (`DeploymentStatus`)."""
    return _schema(DeploymentStatus, STATUS_SCHEMA_PATH.name)


def schema_text() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, final newline."""
    return _text(policy_schema())


def status_schema_text() -> str:
    """The status schema as its committed file holds it (same format as `schema_text`)."""
    return _text(status_schema())


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema to `path` (default: the committed file) and return the path."""
    path.write_text(schema_text(), encoding="utf-8")
    return path


def write_status_schema(path: Path = STATUS_SCHEMA_PATH) -> Path:
    """Write the status schema to `path` (default: the committed file) and return the path."""
    path.write_text(status_schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    write_schema()
    write_status_schema()
