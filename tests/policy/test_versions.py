from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy, only_error
from tfprod.policy import SCHEMA_VERSION, ModelVersion, Policy, StickyKey, Traffic


def test_minimal_policy_reads_with_defaults() -> None:
    policy = Policy.model_validate(minimal_policy())

    assert policy.schema_version == SCHEMA_VERSION == "tfprod.dev/v1alpha1"
    assert policy.namespace == "default"
    assert policy.stable == ModelVersion(
        id="rec-v2.0.0", artifact="s3://models/rec/v2.0.0", role="stable"
    )
    assert policy.with_role("canary") == (policy.version("rec-v2.1.0"),)
    assert policy.traffic == Traffic(weights={"rec-v2.0.0": 95.0, "rec-v2.1.0": 5.0})


def test_round_trips_through_json() -> None:
    policy = Policy.model_validate(
        minimal_policy(
            traffic={
                "weights": {"rec-v2.0.0": 99.5, "rec-v2.1.0": 0.5},
                "sticky": {"source": "header", "name": "X-User-Id"},
            }
        )
    )

    assert Policy.model_validate_json(policy.model_dump_json()) == policy
    assert policy.traffic.sticky == StickyKey(source="header", name="X-User-Id")


def test_models_are_frozen() -> None:
    policy = Policy.model_validate(minimal_policy())

    with pytest.raises(ValidationError, match="Instance is frozen"):
        policy.name = "other"


def test_unknown_version_lookup_names_declared_ones() -> None:
    policy = Policy.model_validate(minimal_policy())

    with pytest.raises(KeyError, match=r"no version 'v9'; declared: rec-v2.0.0, rec-v2.1.0"):
        policy.version("v9")


def test_weights_may_leave_versions_out_and_sum_with_float_noise() -> None:
    weights = {"rec-v2.0.0": 100 - 0.1 - 0.2, "rec-v2.1.0": 0.1 + 0.2}

    assert Traffic(weights=weights).weights == weights
    assert Traffic(weights={"rec-v2.0.0": 100}).weights == {"rec-v2.0.0": 100.0}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            {"a": 90, "b": 5},
            "traffic weights must sum to 100 (percent); got 95 (a: 90, b: 5)",
        ),
        ({"a": 110, "b": -10}, "traffic weight for 'a' is 110; allowed: 0 to 100 (percent)"),
        ({}, "traffic weights are empty: give at least one version 100 percent"),
        (
            {"a b": 100},
            "traffic weight key 'a b' is not a version id: use 1 to 63 letters, digits, '.',"
            " '_' or '-', starting with a letter or digit",
        ),
    ],
)
def test_rejects_bad_weights(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Traffic(weights=weights)

    assert only_error(excinfo) == ("weights", message)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "artifact",
            "http://models/rec",
            "artifact 'http://models/rec' has scheme 'http'; allowed: file://, s3://, gs://, az://",
        ),
        (
            "artifact",
            "models/rec",
            "artifact 'models/rec' is not a registry URI; allowed: file://, s3://, gs://, az://",
        ),
        (
            "id",
            "-v1",
            "version id '-v1' is not a version id: use 1 to 63 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit",
        ),
    ],
)
def test_rejects_bad_version_fields(field: str, value: str, message: str) -> None:
    fields = {"id": "v1", "artifact": "file:///models/rec/v1", "role": "stable", field: value}

    with pytest.raises(ValidationError) as excinfo:
        ModelVersion.model_validate(fields)

    assert only_error(excinfo) == (field, message)


def test_rejects_unknown_role_and_extra_keys() -> None:
    with pytest.raises(ValidationError) as excinfo:
        ModelVersion.model_validate(
            {"id": "v1", "artifact": "file:///m", "role": "primary", "weight": 5}
        )

    messages = [(error["loc"], error["msg"]) for error in excinfo.value.errors()]
    assert messages == [
        (
            ("role",),
            "Input should be 'stable', 'canary', 'challenger', 'shadow' or 'fallback'",
        ),
        (("weight",), "Extra inputs are not permitted"),
    ]


def test_rejects_bad_sticky_key() -> None:
    with pytest.raises(ValidationError) as excinfo:
        StickyKey(source="header", name="X User")

    assert only_error(excinfo) == (
        "name",
        "sticky key name 'X User' is not valid: use 1 to 128 letters, digits, '_', '.' or '-'",
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"schema_version": "tfprod.dev/v2"},
            "schema_version 'tfprod.dev/v2' is not supported; this tfprod reads"
            " 'tfprod.dev/v1alpha1'",
        ),
        (
            {"name": "Rec_Engine"},
            "'Rec_Engine' is not a DNS-1123 label: use 1 to 63 lower-case letters, digits or"
            " '-', starting and ending with a letter or digit",
        ),
        ({"versions": []}, "versions is empty: declare at least the stable version"),
    ],
)
def test_rejects_bad_top_level_fields(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(minimal_policy(**overrides))

    assert only_error(excinfo) == (next(iter(overrides)), message)


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        (
            {
                "versions": [
                    {"id": "v1", "artifact": "s3://m/v1", "role": "stable"},
                    {"id": "v1", "artifact": "s3://m/v1b", "role": "canary"},
                ],
                "traffic": {"weights": {"v1": 100}},
            },
            "versions.1.id",
            "version id 'v1' is declared twice; version ids must be unique",
        ),
        (
            {
                "versions": [{"id": "v1", "artifact": "s3://m/v1", "role": "canary"}],
                "traffic": {"weights": {"v1": 100}},
            },
            "versions",
            "exactly one version must have role 'stable'; found 0",
        ),
        (
            {
                "versions": [
                    {"id": "v1", "artifact": "s3://m/v1", "role": "stable"},
                    {"id": "v2", "artifact": "s3://m/v2", "role": "stable"},
                ],
                "traffic": {"weights": {"v1": 100}},
            },
            "versions",
            "exactly one version must have role 'stable'; found 2 (v1, v2)",
        ),
        (
            {"traffic": {"weights": {"rec-v2.0.0": 95, "rec-v9": 5}}},
            "traffic.weights.rec-v9",
            "'rec-v9' is not a declared version; declared: rec-v2.0.0, rec-v2.1.0",
        ),
        (
            {
                "versions": [
                    {"id": "v1", "artifact": "s3://m/v1", "role": "stable"},
                    {"id": "v2", "artifact": "s3://m/v2", "role": "shadow"},
                ],
                "traffic": {"weights": {"v1": 90, "v2": 10}},
            },
            "traffic.weights.v2",
            "'v2' has role 'shadow' and only receives mirrored copies; its weight must be 0,"
            " got 10",
        ),
    ],
)
def test_rejects_inconsistent_versions_and_traffic(
    overrides: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(minimal_policy(**overrides))

    assert only_error(excinfo) == (path, message)


def test_reports_every_inconsistency_at_its_own_path() -> None:
    document = minimal_policy(
        versions=[{"id": "v1", "artifact": "s3://m/v1", "role": "canary"}],
        traffic={"weights": {"v2": 100}},
    )

    with pytest.raises(ValidationError) as excinfo:
        Policy.model_validate(document)

    assert [(error["loc"], error["msg"]) for error in excinfo.value.errors()] == [
        (("versions",), "exactly one version must have role 'stable'; found 0"),
        (("traffic", "weights", "v2"), "'v2' is not a declared version; declared: v1"),
    ]
