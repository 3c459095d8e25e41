"""Reading a reference profile from a Policy's `drift.reference_uri`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tfprod.runtime.drift import DRIFT_EDGES, ProfileSourceError, load_profile
from tfprod.runtime.gateway.drift import monitors_for
from tfprod.runtime.registry import build_profile


def test_a_profile_document_is_read_from_a_plain_file(tmp_path: Path) -> None:
    profile = build_profile(np.arange(12.0).reshape(6, 2), drift_edges=DRIFT_EDGES)
    (tmp_path / "profile.json").write_text(json.dumps(profile.to_json()))

    assert load_profile(f"file://{tmp_path}/profile.json") == profile


def test_a_uri_that_names_no_profile_is_refused_saying_what_would() -> None:
    with pytest.raises(ProfileSourceError, match=r"neither a registry version \(<registry>"):
        load_profile("s3://training-data/features.parquet")


def test_a_profile_file_that_is_missing_is_refused_naming_it(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}/absent.json"
    with pytest.raises(ProfileSourceError, match=f"reference_uri '{uri}': No such file"):
        load_profile(uri)


def test_a_deployment_whose_profile_cannot_be_read_is_reported_unloaded() -> None:
    from tests.drift.test_gateway_drift import policy

    monitors = monitors_for([policy("scorer", "s3://training-data/features.parquet")])

    assert monitors is not None and monitors.monitors == {}
    assert 'tfprod_drift_reference_loaded{deployment="scorer"} 0' in monitors.render()
    assert monitors_for([]) is None
