"""The status document: schema committed, atomic writes, generations, errors by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.policy.helpers import minimal_policy
from tfprod.policy import (
    SCHEMA_VERSION,
    DeploymentStatus,
    Policy,
    PolicyError,
    next_status,
    parse_status,
    policy_digest,
    read_status,
    status_file_name,
    status_json,
    write_status,
)
from tfprod.policy.schema import STATUS_SCHEMA_PATH, status_schema, status_schema_text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def status(**overrides: object) -> DeploymentStatus:
    first = next_status(
        None,
        deployment="recommendation-engine",
        weights={"rec-v2.0.0": 90, "rec-v2.1.0": 10},
        policy=policy_digest(Policy.model_validate(minimal_policy())),
        writer="test",
        now=NOW,
    )
    return DeploymentStatus.model_validate({**first.model_dump(), **overrides})


def test_committed_status_schema_is_current() -> None:
    # On failure regenerate it: python -m tfprod.policy.schema
    assert STATUS_SCHEMA_PATH.read_text(encoding="utf-8") == status_schema_text()


def test_status_schema_names_its_version_and_forbids_unknown_keys() -> None:
    schema = status_schema()
    assert schema["$id"] == f"https://{SCHEMA_VERSION}/status.schema.json"
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == [
        "deployment", "generation", "policy_digest", "updated_at", "weights", "writer",
    ]  # fmt: skip
    assert all(
        definition.get("additionalProperties") is False
        for definition in schema["$defs"].values()
        if definition.get("type") == "object"
    )


def test_a_written_status_reads_back_equal_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / status_file_name("recommendation-engine")
    write_status(path, status())
    assert read_status(path) == status()
    assert path.read_text(encoding="utf-8") == status_json(status())
    assert [p.name for p in tmp_path.iterdir()] == ["recommendation-engine-status.json"]


def test_each_next_status_has_the_next_generation_and_keeps_the_rollout() -> None:
    first = status(rollout={"phase": "progressing", "step_index": 2})
    second = next_status(
        first,
        deployment="recommendation-engine",
        weights={"rec-v2.0.0": 100, "rec-v2.1.0": 0},
        policy=first.policy_digest,
        writer="controller",
        now=NOW,
    )
    assert (first.generation, second.generation) == (1, 2)
    assert second.rollout == first.rollout
    assert second.weights == {"rec-v2.0.0": 100, "rec-v2.1.0": 0}


def test_a_missing_status_file_means_declared_weights(tmp_path: Path) -> None:
    assert read_status(tmp_path / "nothing-status.json") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": {"a": 50, "b": 40}},
         "weights: weights must sum to 100 (percent); got 90 (a: 50, b: 40)"),
        ({"weights": {"a": 120}},
         "weights: weight for 'a' is 120; allowed: 0 to 100 (percent)"),
        ({"generation": 0}, "generation: Input should be greater than or equal to 1"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_a_bad_status_names_the_field(change: dict[str, object], message: str) -> None:
    document = {**json.loads(status_json(status())), **change}
    with pytest.raises(PolicyError) as error:
        parse_status(json.dumps(document), "status.json")
    assert str(error.value) == f"status.json: {message}"


def test_a_status_that_is_not_json_names_its_source() -> None:
    with pytest.raises(PolicyError) as error:
        parse_status("{", "cm/x-status")
    assert str(error.value) == (
        "cm/x-status is not JSON: Expecting property name enclosed in double quotes:"
        " line 1 column 2 (char 1)"
    )


def test_the_policy_digest_changes_with_the_policy() -> None:
    one = Policy.model_validate(minimal_policy())
    other = Policy.model_validate(minimal_policy(environment="staging"))
    assert policy_digest(one).startswith("sha256:")
    assert len(policy_digest(one)) == len("sha256:") + 64
    assert policy_digest(one) != policy_digest(other)
