"""The image cannot be built here (no Docker engine): check what can be checked without one."""

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dockerfile
import pytest

from tests.examples.conftest import stack_json, stacks, synth_examples

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


def image_user() -> tuple[str, str]:
    """(user, group) of the final stage's `USER user:group`."""
    (user,) = [command.value[0] for command in final_stage() if command.cmd == "USER"]
    uid, _, gid = user.partition(":")
    return uid, gid


def pod_specs(value: Any) -> Iterator[dict[str, Any]]:
    """Every pod spec (a mapping with containers) anywhere in synthesized Terraform JSON."""
    if isinstance(value, dict):
        if "container" in value or "containers" in value:
            yield value
        for child in value.values():
            yield from pod_specs(child)
    elif isinstance(value, list):
        for child in value:
            yield from pod_specs(child)


def security_contexts(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod's own security context followed by each of its containers' that set one."""
    containers = [
        *pod.get("init_container", []),
        *pod.get("container", []),
        *pod.get("initContainers", []),
        *pod.get("containers", []),
    ]
    found = [pod.get("security_context") or pod.get("securityContext")]
    found += [c.get("security_context") or c.get("securityContext") for c in containers]
    return [context for context in found if context]


@pytest.mark.slow
def test_every_synthesized_pod_runs_as_the_images_user(tmp_path: Path) -> None:
    uid, gid = image_user()
    outdir = tmp_path / "cdktf.out"
    synth_examples(outdir)
    checked = deployments = 0
    for stack in stacks(outdir):
        document = stack_json(outdir, stack)
        deployments += len(document["resource"]["kubernetes_deployment_v1"])
        for pod in pod_specs(document):
            pod_context, *container_contexts = security_contexts(pod)
            assert pod_context["run_as_non_root"] is True, stack
            assert (pod_context["run_as_user"], pod_context["run_as_group"]) == (uid, gid), stack
            for context in container_contexts:
                assert context.get("run_as_user", uid) == uid, stack
                assert context.get("run_as_group", gid) == gid, stack
            checked += 1
    # The pods are those of the Deployments (model servers, gateway, controller), none missed.
    assert checked == deployments > 0
