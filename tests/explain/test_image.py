"""The explainer image (Dockerfile.explainer) cannot be built here (no Docker engine): check
what can be checked without one."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = dockerfile.parse_file(str(ROOT / "Dockerfile.explainer"))
PROJECT = dockerfile.parse_file(str(ROOT / "Dockerfile"))


def values(commands: tuple[dockerfile.Command, ...], name: str) -> list[tuple[str, ...]]:
    return [command.value for command in commands if command.cmd == name]


def test_the_explainer_image_installs_tensorflow_lime_and_shap_from_the_pins() -> None:
    (install,) = [v[0] for v in values(COMMANDS, "RUN") if "pip install" in v[0]]
    assert " -c constraints.txt " in install
    wanted = re.search(r'"\.\[([a-z,]+)\]"', install)
    assert wanted is not None
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    requirements = [r for extra in wanted.group(1).split(",") for r in extras[extra]]
    names = {re.split(r"[<>=\[ ]", requirement)[0] for requirement in requirements}
    assert {"tensorflow", "lime", "shap"} <= names
    assert names.isdisjoint({"cdktn", "constructs", "jsii"})


def test_the_explainer_image_has_the_project_images_base_and_user() -> None:
    assert values(COMMANDS, "ARG") == values(PROJECT, "ARG")
    assert values(COMMANDS, "USER") == values(PROJECT, "USER") == [("10001:10001",)]
    assert values(COMMANDS, "ENTRYPOINT") == values(PROJECT, "ENTRYPOINT")


def test_the_explainer_images_command_exists_in_the_cli() -> None:
    ((key, value),) = values(COMMANDS, "LABEL")
    assert (key, value.strip('"')) == ("dev.tfprod.commands", "explainer")
    result = subprocess.run(
        [sys.executable, "-m", "tfprod", "explainer", "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: tfprod explainer ")
