"""Every command finds the synthesized output one way: --output, else cdktf.json's output,
else cdktf.out (`validate DIR` and `up --outdir DIR` are kept as old spellings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfprod.cli import main

MISSING = "{d}: no such directory; synthesize first (e.g. python examples/app.py)"


def _project(directory: Path, config: object) -> Path:
    (directory / "cdktf.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


@pytest.mark.parametrize("command", ["validate", "review", "up"])
@pytest.mark.parametrize(
    "project",
    [({"app": "true", "output": "synthesized"}, "synthesized"), (None, "cdktf.out")],
    ids=["cdktf.json's output", "no cdktf.json"],
)
def test_reads_the_output_cdktf_json_names_else_cdktf_out(
    command: str,
    project: tuple[object, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, output = project
    monkeypatch.chdir(tmp_path if config is None else _project(tmp_path, config))
    assert main([command]) == 2
    message = MISSING.format(d=tmp_path / output)
    assert capsys.readouterr().err == f"tfprod {command}: error: {message}\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["validate", "--output", "{d}"],
        ["validate", "{d}"],
        ["review", "--output", "{d}"],
        ["up", "--output", "{d}"],
        ["up", "--outdir", "{d}"],
    ],
)
def test_the_output_flag_wins_over_cdktf_json(
    arguments: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(_project(tmp_path, {"app": "true", "output": "synthesized"}))
    given = tmp_path / "elsewhere"
    assert main([argument.format(d=given) for argument in arguments]) == 2
    message = MISSING.format(d=given)
    assert capsys.readouterr().err == f"tfprod {arguments[0]}: error: {message}\n"


def test_validate_refuses_the_directory_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "a"), "--output", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (
        "tfprod validate: error: give the output directory once: DIR or --output, not both\n"
    )


def test_a_malformed_output_in_cdktf_json_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, {"output": ["out"]}))
    assert main(["review"]) == 2
    assert capsys.readouterr().err == (
        f"tfprod review: error: {tmp_path / 'cdktf.json'}: output must be a directory name,"
        " got ['out']\n"
    )
