"""Rules are found from their modules, and each one's id is its module's file name."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

import tfprod.governance.rules
from tfprod.governance import RULES
from tfprod.governance.registry import discover

RULES_DIR = Path(tfprod.governance.rules.__file__).parent
RULE_MODULE = 'LEVEL = "warning"\nTITLE = "a test rule"\n\n\ndef check(view):\n    return ()\n'


def test_every_rule_module_is_registered_under_the_id_of_its_file_name() -> None:
    modules = sorted(path.stem for path in RULES_DIR.glob("tfp*.py"))
    assert [rule.id for rule in RULES] == [name[:6].upper() for name in modules]
    assert len(RULES) == len(modules) > 0


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> ModuleType:
    """A package `more_rules` holding `files`, imported afresh."""
    for name in [name for name in sys.modules if name.split(".")[0] == "more_rules"]:
        monkeypatch.delitem(sys.modules, name)
    package = tmp_path / "more_rules"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("more_rules")


def test_a_new_module_is_a_rule_with_the_id_of_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(tmp_path, monkeypatch, {"tfp042_example.py": RULE_MODULE})
    assert [(r.id, r.level, r.title) for r in discover(package)] == [
        ("TFP042", "warning", "a test rule")
    ]


def test_a_module_not_named_like_a_rule_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(tmp_path, monkeypatch, {"helpers.py": RULE_MODULE})
    with pytest.raises(TypeError) as excinfo:
        discover(package)
    assert str(excinfo.value) == (
        "more_rules.helpers is not named like a governance rule (tfpNNN_<what>.py)"
    )


def test_a_rule_module_without_a_level_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = RULE_MODULE.replace('LEVEL = "warning"', 'LEVEL = "fatal"')
    package = _package(tmp_path, monkeypatch, {"tfp001_bad.py": text})
    with pytest.raises(TypeError) as excinfo:
        discover(package)
    assert str(excinfo.value) == (
        "governance rule module more_rules.tfp001_bad needs LEVEL (one of error, warning),"
        " TITLE (a string) and check(view)"
    )
