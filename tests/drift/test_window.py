"""Drift windows by count and by time, bounded by their capacity."""

from __future__ import annotations

import numpy as np
import pytest

from tfprod.runtime.drift import Window


def rows(start: int, count: int) -> np.ndarray:
    return np.arange(start, start + count, dtype="float64").reshape(count, 1)


def test_a_window_by_count_holds_the_last_rows_oldest_first() -> None:
    window = Window(1, rows=3, capacity=5)
    window.add(rows(0, 4), 100.0)
    window.add(rows(4, 3), 101.0)

    assert window.snapshot(101.0).tolist() == [[4.0, 5.0, 6.0]]
    assert window.overwritten == 2


def test_a_window_by_time_holds_the_rows_of_the_last_seconds() -> None:
    window = Window(1, seconds="1m", capacity=10)
    window.add(rows(0, 2), 1000.0)
    window.add(rows(2, 2), 1030.0)
    window.add(rows(4, 1), 1070.0)

    assert window.seconds == 60.0
    assert window.snapshot(1080.0).tolist() == [[2.0, 3.0, 4.0]]


def test_a_block_larger_than_the_capacity_keeps_its_newest_rows() -> None:
    window = Window(1, rows=4, capacity=4)
    window.add(rows(0, 10), 0.0)

    assert window.snapshot(0.0).tolist() == [[6.0, 7.0, 8.0, 9.0]]
    assert window.written == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "a window is by count \\(rows\\) or by time \\(seconds\\): give one"),
        ({"rows": 5, "seconds": 1.0}, "give one"),
        ({"rows": 0}, "rows must lie in \\[1, capacity=100000\\], got 0"),
        ({"seconds": -1.0}, "seconds must be greater than 0, got -1.0"),
    ],
)
def test_bad_window_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window(1, **kwargs)  # type: ignore[arg-type]
