"""docs/review-recommendation_system.md is what `tfprod review` prints for that example today.

The examples are synthesized with `tfprod synth` from the root `cdktf.json`, as a user would.
When an example or the review changes on purpose, regenerate the page:

    tfprod synth && tfprod review recommendation-aws > docs/review-recommendation_system.md
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfprod.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "review-recommendation_system.md"


@pytest.mark.slow
def test_committed_review_matches_a_fresh_synth_and_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    output = tmp_path / "cdktf.out"
    assert main(["synth", "--output", str(output)]) == 0
    capsys.readouterr()
    assert main(["review", "recommendation-aws", "--output", str(output)]) == 0
    assert capsys.readouterr().out == DOC.read_text(encoding="utf-8")
