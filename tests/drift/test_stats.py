"""The numpy-only statistics against scipy's (scipy is a test dependency, not a runtime one)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tfprod.runtime.drift import chi2_sf, holm, jensen_shannon, ks_sf, psi


@pytest.mark.parametrize(
    ("statistic", "df"),
    [(3.841458820694124, 1), (0.001, 1), (0.5, 3), (30.0, 10), (100.0, 50), (500.0, 400),
     (2.0, 49), (80.0, 49), (1e4, 7)],
)  # fmt: skip
def test_chi2_sf_matches_scipy_to_nine_digits(statistic: float, df: int) -> None:
    expected = stats.chi2.sf(statistic, df)
    assert chi2_sf(statistic, df) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_chi2_sf_of_the_5_percent_critical_value_of_one_degree_is_0_05() -> None:
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-12)
    assert chi2_sf(0.0, 3) == 1.0


def test_chi2_sf_refuses_zero_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="df must be at least 1, got 0"):
        chi2_sf(1.0, 0)


def test_ks_sf_matches_scipys_asymptotic_two_sample_p_value() -> None:
    distances = np.array([0.005, 0.01, 0.015, 0.02, 0.03])
    n, m = 100_000, 10_000
    effective = np.full(distances.shape, n * m / (n + m))
    expected = stats.kstwobign.sf(np.sqrt(effective) * distances)
    np.testing.assert_allclose(ks_sf(distances, effective), expected, rtol=0.05)


def test_holm_adjusts_sorted_p_values_and_keeps_their_order() -> None:
    adjusted = holm(np.array([0.04, 0.01, 0.03, np.nan]))
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.06 (monotone)
    np.testing.assert_allclose(adjusted[:3], [0.06, 0.03, 0.06])
    assert np.isnan(adjusted[3])


def test_psi_and_jensen_shannon_of_known_distributions() -> None:
    same = np.array([[0.5, 0.5]])
    assert psi(same, same)[0] == 0.0
    assert jensen_shannon(same, same)[0] == 0.0
    assert jensen_shannon(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))[0] == pytest.approx(1.0)
    expected = (0.6 - 0.5) * np.log(0.6 / 0.5) + (0.4 - 0.5) * np.log(0.4 / 0.5)
    assert psi(same, np.array([[0.6, 0.4]]))[0] == pytest.approx(expected)
