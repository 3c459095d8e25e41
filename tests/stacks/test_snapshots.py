"""Each cloud stack's own resources, compared whole with the committed snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stacks.snapshots import BUILDERS, SNAPSHOTS, cloud_part, render


@pytest.mark.parametrize("cloud", sorted(BUILDERS))
def test_cloud_part_of_the_stack_matches_the_snapshot(cloud: str, tmp_path: Path) -> None:
    expected = (SNAPSHOTS / f"{cloud}.json").read_text()
    assert render(cloud_part(cloud, tmp_path)) == expected, (
        "regenerate with `python -m tests.stacks.snapshots` if the change is intended"
    )
