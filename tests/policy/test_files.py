from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy
from tfprod.policy import (
    CONFIGMAP_KEY,
    Policy,
    PolicyError,
    configmap_name,
    policy_file_name,
    policy_json,
    read_policy,
)


def test_names_where_a_deployment_policy_is_shipped() -> None:
    assert configmap_name("recommendation-engine") == "recommendation-engine-policy"
    assert CONFIGMAP_KEY == "policy.json"
    assert policy_file_name("recommendation-engine") == "recommendation-engine.policy.json"


def test_written_policy_reads_back_equal(tmp_path: Path) -> None:
    policy = Policy.model_validate(minimal_policy())
    path = tmp_path / policy_file_name(policy.name)
    path.write_text(policy_json(policy), encoding="utf-8")

    assert read_policy(path) == policy
    assert policy_json(policy).endswith("}\n")
    assert json.loads(policy_json(policy))["schema_version"] == "tfprod.dev/v1alpha1"


def test_read_policy_reports_unreadable_file_and_invalid_document(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as missing:
        read_policy(tmp_path / "absent.json")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(minimal_policy(model="")), encoding="utf-8")

    assert (
        str(missing.value) == f"cannot read {tmp_path / 'absent.json'}: No such file or directory"
    )
    with pytest.raises(ValidationError, match="is not a DNS-1123 label"):
        read_policy(path)
