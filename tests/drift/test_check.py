"""Drift checks on synthetic data: a known shift flags the shifted features and no other; on
unshifted data the share of windows flagging any feature stays at the configured alpha."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tfprod.runtime.drift import DriftReference
from tfprod.runtime.registry import build_profile

RNG_SEED = 7


@pytest.fixture(scope="module")
def reference_data() -> np.ndarray:
    return np.random.default_rng(RNG_SEED).normal(size=(100_000, 6))


@pytest.fixture(scope="module")
def reference(reference_data: np.ndarray) -> DriftReference:
    return DriftReference.fit(reference_data)


def test_a_known_shift_flags_exactly_the_shifted_features(reference: DriftReference) -> None:
    window = np.random.default_rng(1).normal(size=(6, 5_000))
    window[1] += 0.2  # location shift
    window[4] *= 1.3  # scale change: same mean, wider

    report = reference.check(window)

    assert report.drifted == ("f1", "f4")
    assert [f.rows for f in report.features] == [5_000] * 6
    assert report.score == max(f.psi for f in report.features)
    assert report.features[1].psi > 0.02 > report.features[0].psi


def test_binned_ks_is_within_a_bin_of_scipys_exact_ks(
    reference: DriftReference, reference_data: np.ndarray
) -> None:
    window = np.random.default_rng(2).normal(0.05, 1.0, size=(6, 10_000))
    report = reference.check(window)
    for index, feature in enumerate(report.features):
        exact = stats.ks_2samp(reference_data[:, index], window[index]).statistic
        assert feature.ks is not None
        assert abs(feature.ks - exact) <= 1 / 500


def test_false_alarm_rate_over_1000_unshifted_windows_stays_at_alpha(
    reference: DriftReference,
) -> None:
    windows = np.random.default_rng(3).normal(size=(1_000, 6, 500))
    alarms = sum(bool(reference.check(window).drifted) for window in windows)
    # alpha 0.05: expected at most 50; 72 is over 3 binomial standard deviations above.
    assert alarms <= 72
    assert alarms > 0  # the tests can fire at all on unshifted data


def test_categorical_shift_is_flagged_by_chi_squared_with_js_and_psi() -> None:
    rng = np.random.default_rng(4)
    columns = {
        "country": rng.choice(["de", "fr", "us"], p=[0.5, 0.3, 0.2], size=20_000),
        "amount": rng.exponential(size=20_000),
    }
    reference = DriftReference(build_profile(columns, drift_edges=499).features)
    live = rng.choice(["de", "fr", "us", "br"], p=[0.3, 0.3, 0.2, 0.2], size=2_000)
    codes = [reference.encode("country", value) for value in live]
    amounts = rng.exponential(size=2_000)

    report = reference.check(np.array([codes, amounts]))

    country, amount = report.features
    assert (country.kind, amount.kind) == ("categorical", "numeric")
    assert report.drifted == ("country",)
    assert country.js is not None and 0.01 < country.js < 1
    assert country.psi > 0.2
    assert reference.encode("country", "br") == 3.0  # unseen: "other", after de, fr, us
    assert np.isnan(reference.encode("country", None))


def test_missing_values_are_left_out_of_a_window() -> None:
    reference = DriftReference.fit(np.random.default_rng(5).normal(size=(10_000, 2)))
    window = np.random.default_rng(6).normal(size=(2, 1_000))
    window[0, :100] = np.nan
    window[1, :] = np.inf

    report = reference.check(window)

    assert [(f.name, f.rows) for f in report.features] == [("f0", 900)]


def test_a_profile_without_drift_edges_is_refused_naming_the_feature() -> None:
    profile = build_profile(np.ones((3, 1)), feature_names=["age"])
    with pytest.raises(ValueError, match="feature 'age': the profile keeps 0 drift edges, 499"):
        DriftReference(profile.features)


def test_a_window_of_the_wrong_shape_is_refused() -> None:
    reference = DriftReference.fit(np.random.default_rng(0).normal(size=(1_000, 3)))
    with pytest.raises(ValueError, match=r"window must have shape \(3, rows\), got \(2, 10\)"):
        reference.check(np.zeros((2, 10)))
