"""The Policy's JSON Schema, committed next to this module as `policy.schema.json`.

Regenerate after changing a model: `python -m tfprod.policy.schema`; a test fails while the
committed file is stale. `tfprod policy schema` prints the same text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfprod.policy.document import SCHEMA_VERSION, Policy

SCHEMA_PATH = Path(__file__).with_name("policy.schema.json")


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a Policy document as read: written forms are accepted too."""
    schema = Policy.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://{SCHEMA_VERSION}/policy.schema.json",
        **schema,
    }


def schema_text() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(policy_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema to `path` (default: the committed file) and return the path."""
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    write_schema()
