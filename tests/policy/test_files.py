from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy
from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    POLICY_FILE_SUFFIX,
    Policy,
    PolicyError,
    configmap_name,
    endpoints_json,
    parse_endpoints,
    policy_file_name,
    policy_json,
    read_endpoints,
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


def test_endpoints_are_written_in_one_canonical_form_and_read_back(tmp_path: Path) -> None:
    endpoints = {"rec-v2.0.0": "http://127.0.0.1:9001", "rec-v2.1.0": "http://127.0.0.1:9002"}
    text = endpoints_json(endpoints)
    path = tmp_path / ENDPOINTS_KEY
    path.write_text(text, encoding="utf-8")

    assert text == (
        '{\n  "rec-v2.0.0": "http://127.0.0.1:9001",\n  "rec-v2.1.0": "http://127.0.0.1:9002"\n}\n'
    )
    assert read_endpoints(path) == endpoints


SHAPE = '{path}: must be {{"<version id>": "http://host:port", ...}}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ("{", "{path} is not JSON: Expecting property name enclosed in double quotes: line 1"
              " column 2 (char 1)"),
        ('["http://127.0.0.1:9001"]', SHAPE),
        ('{"v1": 9001}', SHAPE),
    ],
)  # fmt: skip
def test_read_endpoints_names_the_file_and_the_shape_it_wants(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / ENDPOINTS_KEY
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        read_endpoints(path)
    assert str(error.value) == message.format(path=path)


def test_policy_files_end_in_the_one_suffix_readers_look_for() -> None:
    assert policy_file_name("rec") == f"rec{POLICY_FILE_SUFFIX}"
    assert POLICY_FILE_SUFFIX == ".policy.json"


def test_parse_endpoints_names_where_the_text_came_from() -> None:
    with pytest.raises(PolicyError) as error:
        parse_endpoints('{"v1": 1}', where="stack.json: ConfigMap 'rec-endpoints'")
    assert str(error.value) == (
        'stack.json: ConfigMap \'rec-endpoints\': must be {"<version id>": "http://host:port", ...}'
    )
