"""DriftDetector given data: the profile is computed at synth, declared in a ConfigMap the
gateway mounts, and read back by the gateway's profile loader from the mounted file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.constructs.stacks import by_name, synthesized
from tfprod.constructs import App, ConstructError, DriftDetector, ModelDeployment
from tfprod.policy import read_synthesized
from tfprod.policy.profile import DRIFT_EDGES, ReferenceProfile, build_profile
from tfprod.runtime.drift import load_profile
from tfprod.runtime.local import stack_profiles

FEATURES = ["age", "income", "basket_size"]


def training_data() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(500, 3))


def detector(deployment: ModelDeployment, data: object, **options: object) -> DriftDetector:
    return DriftDetector(
        deployment,
        "drift",
        reference_data=data,  # type: ignore[arg-type]
        alert_threshold=0.1,
        detection_window="1h",
        **options,  # type: ignore[arg-type]
    )


def test_arrays_are_profiled_at_synth_and_named_by_the_mounted_profile(
    deployment: ModelDeployment,
) -> None:
    data = training_data()

    made = detector(deployment, data, feature_names=FEATURES)

    drift = deployment.policy().drift
    assert drift is not None
    assert drift.reference_uri == "file:///etc/tfprod/policies/rec/profile.json"
    assert made.profile_text is not None
    expected = build_profile(data, feature_names=FEATURES, drift_edges=DRIFT_EDGES)
    assert ReferenceProfile.from_json(json.loads(made.profile_text)) == expected


def test_a_mapping_of_columns_and_a_data_frame_give_the_same_profile(
    deployment: ModelDeployment, app: App
) -> None:
    pandas = pytest.importorskip("pandas")
    data = training_data()
    columns = {name: data[:, index] for index, name in enumerate(FEATURES)}

    from_mapping = detector(deployment, columns)
    other = ModelDeployment(
        deployment.node.scope,  # type: ignore[arg-type]
        "other",
        name="other",
        model="rec",
        version="rec-v1",
        environment="staging",
    )
    from_frame = detector(other, pandas.DataFrame(columns))

    assert from_mapping.profile_text == from_frame.profile_text
    assert list(json.loads(from_frame.profile_text or "{}")["features"]) == FEATURES


def test_the_stack_declares_the_profile_config_map_and_the_gateway_mounts_it(
    deployment: ModelDeployment, app: App, outdir: Path
) -> None:
    made = detector(deployment, training_data(), feature_names=FEATURES)

    app.synth()

    document = synthesized(outdir, "ml")
    config_map = by_name(document, "kubernetes_config_map_v1")["rec-profile"]
    assert config_map["metadata"]["namespace"] == "ml"
    assert config_map["data"] == {"profile.json": made.profile_text}
    gateway = by_name(document, "kubernetes_deployment_v1")["tfprod-gateway"]
    (volume,) = [
        volume
        for volume in gateway["spec"]["template"]["spec"]["volume"]
        if volume["name"] == "policy-rec"
    ]
    assert [source["config_map"] for source in volume["projected"][0]["sources"]] == [
        [{"name": "rec-policy"}],
        [{"name": "rec-endpoints"}],
        [{"name": "rec-profile"}],
    ]
    (stack,) = read_synthesized(outdir).stacks
    assert stack.profile("rec") == made.profile_text
    assert stack_profiles(outdir, None) == {"rec": made.profile_text}  # what tfprod up lays out


def test_a_uri_declares_no_profile_config_map(
    deployment: ModelDeployment, app: App, outdir: Path
) -> None:
    detector(deployment, "s3://ml-models/registry/models/rec/versions/rec-v1")

    app.synth()

    document = synthesized(outdir, "ml")
    assert "rec-profile" not in by_name(document, "kubernetes_config_map_v1")
    (stack,) = read_synthesized(outdir).stacks
    assert stack.profile("rec") is None


def test_the_gateway_reads_the_mounted_profile_from_its_policies_directory(
    deployment: ModelDeployment, tmp_path: Path
) -> None:
    made = detector(deployment, training_data(), feature_names=FEATURES)
    drift = deployment.policy().drift
    assert drift is not None and made.profile_text is not None
    mounted = tmp_path / "policies"
    (mounted / "rec").mkdir(parents=True)
    (mounted / "rec" / "profile.json").write_text(made.profile_text)

    profile = load_profile(drift.reference_uri, mounted=mounted)

    assert list(profile.features) == FEATURES
    assert profile.rows == 500


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (
            np.zeros(5),
            {},
            "ml/rec/drift: reference_data: data must be a 2-D array (rows x features) or a"
            " mapping of columns, got an array of shape (5,)",
        ),
        (
            np.zeros((5, 2)),
            {"feature_names": ["age"]},
            "ml/rec/drift: feature_names: feature_names must name each of the 2 columns once,"
            " got ['age']",
        ),
        (
            "s3://ml-models/profile.json",
            {"feature_names": ["age"]},
            "ml/rec/drift: feature_names: applies to reference data, not to a URI",
        ),
    ],
)
def test_bad_reference_data_is_refused_with_the_construct_path(
    deployment: ModelDeployment, data: object, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        detector(deployment, data, **options)

    assert str(error.value) == message


def test_a_profile_too_large_for_a_config_map_is_refused_with_the_bound(
    deployment: ModelDeployment,
) -> None:
    data = np.random.default_rng(1).normal(size=(1000, 100))

    with pytest.raises(ConstructError) as error:
        detector(deployment, data)

    text = str(error.value)
    size = len(
        json.dumps(
            build_profile(data, drift_edges=DRIFT_EDGES).to_json(), separators=(",", ":")
        ).encode()
    )
    assert text == (
        f"ml/rec/drift: reference_data: its profile of 100 features is {size + 1:,} bytes of"
        " JSON, more than a ConfigMap holds (1,000,000); allowed: fewer features, or a"
        " profile stored in the registry (Registry.register(..., reference_data=...)) named"
        " by its version URI"
    )
