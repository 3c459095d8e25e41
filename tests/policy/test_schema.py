from __future__ import annotations

import json

from tfprod.policy import SCHEMA_VERSION
from tfprod.policy.schema import SCHEMA_PATH, policy_schema, schema_text


def test_committed_schema_is_current() -> None:
    # On failure regenerate it: python -m tfprod.policy.schema
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_schema_names_its_version_and_forbids_unknown_keys() -> None:
    schema = policy_schema()

    assert schema["$id"] == f"https://{SCHEMA_VERSION}/policy.schema.json"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["additionalProperties"] is False
    assert all(
        definition.get("additionalProperties") is False
        for definition in schema["$defs"].values()
        if definition.get("type") == "object"
    )
    assert json.loads(schema_text()) == schema
