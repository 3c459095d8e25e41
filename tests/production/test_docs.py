"""docs/production.md runs: every `python` block in order in one namespace, each block's
printed output equal to the `text` block after it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tfprod import production

DOC = Path(__file__).resolve().parents[2] / "docs" / "production.md"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    """(code, expected output) for each python block; "" when no text block follows it."""
    found = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    pairs = []
    for index, (kind, body) in enumerate(found):
        if kind == "python":
            follows = found[index + 1] if index + 1 < len(found) else ("", "")
            pairs.append((body, follows[1] if follows[0] == "text" else ""))
    return pairs


def test_the_walkthrough_has_a_block_per_proposal_snippet() -> None:
    code = "".join(body for body, _ in blocks())
    for call in (
        "production.deploy(",
        "production.AutoScaling(",
        "production.ModelRegistry(",
        ".register(",
        "production.ABTest(",
        ".get_results()",
        ".promote_winner()",
        "production.ModelMonitor(",
        "production.DriftDetector(",
        "production.SafetyNet(",
        "production.CanaryDeployment(",
        "production.ModelDebugger(",
        ".explain_prediction(",
        "production.export(",
    ):
        assert call in code, call


@pytest.mark.slow
def test_every_block_prints_what_the_walkthrough_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TFPROD_CONTROLLER_URL", raising=False)
    production.shutdown()
    namespace: dict[str, object] = {"__name__": "walkthrough"}
    try:
        for number, (code, expected) in enumerate(blocks(), start=1):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"{DOC.name} block {number}", "exec"), namespace)
            assert printed.getvalue() == expected, f"block {number}"
    finally:
        production.shutdown()
