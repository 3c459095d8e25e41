"""docs/governance.md lists every registered rule with its level and title."""

from __future__ import annotations

from pathlib import Path

from tfprod.governance import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "governance.md"


def test_rule_table_matches_the_registry() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("| Id | Level | Rule |") + 2
    table = lines[start : start + len(RULES) + 1]
    assert table == [f"| {rule.id} | {rule.level} | {rule.title} |" for rule in RULES] + [""]


def test_rule_ids_are_unique_and_numbered_in_order() -> None:
    assert [rule.id for rule in RULES] == [f"TFP{n:03d}" for n in range(1, len(RULES) + 1)]
