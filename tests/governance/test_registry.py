"""Rules are found from their modules, and each one's id is its module's file name."""

from __future__ import annotations

from pathlib import Path

import tfprod.governance.rules
from tfprod.governance import RULES

RULES_DIR = Path(tfprod.governance.rules.__file__).parent


def test_every_rule_module_is_registered_under_the_id_of_its_file_name() -> None:
    modules = sorted(path.stem for path in RULES_DIR.glob("tfp*.py"))
    assert [rule.id for rule in RULES] == [name[:6].upper() for name in modules]
    assert len(RULES) == len(modules) > 0
