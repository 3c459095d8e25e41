"""The image cannot be built here (no Docker engine): check what can be checked without one."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = dockerfile.parse_file(str(ROOT / "Dockerfile"))


def instructions(name: str) -> list[dockerfile.Command]:
    return [command for command in COMMANDS if command.cmd == name]


def final_stage() -> list[dockerfile.Command]:
    last_from = max(i for i, command in enumerate(COMMANDS) if command.cmd == "FROM")
    return list(COMMANDS[last_from:])


def test_base_image_is_pinned_to_an_exact_python_patch_release() -> None:
    (arg,) = instructions("ARG")
    name, _, image = arg.value[0].partition("=")
    assert name == "PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
    assert [command.value[0] for command in instructions("FROM")] == ["${PYTHON_IMAGE}"] * 2


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = [command.value[0] for command in final_stage() if command.cmd == "USER"]
    assert users == ["10001:10001"]


def test_final_stage_takes_only_the_virtual_environment_from_the_build_stage() -> None:
    copies = [command for command in final_stage() if command.cmd == "COPY"]
    assert [(command.flags, command.value) for command in copies] == [
        (("--from=build",), ("/opt/tfprod", "/opt/tfprod"))
    ]


def pip_install_command() -> str:
    (install,) = [command for command in instructions("RUN") if "pip install" in command.value[0]]
    text: str = install.value[0]
    return text


def test_build_stage_installs_pinned_packages_and_leaves_no_pip_behind() -> None:
    assert " -c constraints.txt " in pip_install_command()
    assert pip_install_command().endswith("/opt/tfprod/bin/pip uninstall --yes pip")


def test_image_extras_pull_in_neither_tensorflow_nor_node_based_cdktn() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = re.search(r'"\.\[([a-z,]+)\]"', pip_install_command())
    assert wanted is not None
    requirements = list(project["dependencies"])
    for extra in wanted.group(1).split(","):
        requirements += extras[extra]
    names = {re.split(r"[<>=\[ ]", requirement)[0] for requirement in requirements}
    assert names.isdisjoint({"tensorflow", "cdktn", "constructs", "jsii", "tfprod"}), names


def test_entry_commands_named_in_the_image_exist_in_the_cli() -> None:
    (label,) = instructions("LABEL")
    key, value = label.value
    assert key == "dev.tfprod.commands"
    commands = value.strip('"').split()
    assert commands == ["gateway", "registry"]
    (entrypoint,) = instructions("ENTRYPOINT")
    assert entrypoint.value == ("tfprod",)
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-m", "tfprod", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.startswith(f"usage: tfprod {command}")
