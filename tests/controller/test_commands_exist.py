"""Every `tfprod` command a synthesized manifest runs exists and accepts the flags it is given.

The examples (every example on every cloud) and the constructs' proposal stack are
synthesized; every container running the tfprod image (whose entrypoint is `tfprod`) or a
`tfprod` command is found, its command line is parsed by tfprod's own argparse parser, and
`tfprod <command> --help` exits 0.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.constructs.stacks import synth_proposal
from tests.examples.conftest import stack_json, stacks, synth_examples
from tfprod.cli._app import build_parser
from tfprod.constructs.deployment import TFPROD_IMAGE

pytestmark = pytest.mark.slow

IMAGE_REPOSITORY = TFPROD_IMAGE.rsplit(":", 1)[0]


def containers(node: Any) -> Iterator[dict[str, Any]]:
    """Every container block anywhere in a synthesized document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("container", "containers", "init_container") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            yield from containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from containers(item)


def tfprod_command_lines(document: Any) -> list[list[str]]:
    """The argument lists (after `tfprod`) of the containers that run tfprod."""
    lines = []
    for container in containers(document):
        command = [str(part) for part in container.get("command") or []]
        args = [str(part) for part in container.get("args") or []]
        if command and Path(command[0]).name == "tfprod":
            lines.append(command[1:] + args)
        elif not command and str(container.get("image", "")).startswith(IMAGE_REPOSITORY):
            lines.append(args)
    return lines


@pytest.fixture(scope="module")
def command_lines(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    outdir = tmp_path_factory.mktemp("commands") / "cdktf.out"
    synth_examples(outdir)
    documents = [stack_json(outdir, stack) for stack in stacks(outdir)]
    documents.append(synth_proposal(tmp_path_factory.mktemp("proposal")))
    return [line for document in documents for line in tfprod_command_lines(document)]


def test_the_manifests_run_the_gateway_the_controller_the_explainer_and_the_registry(
    command_lines: list[list[str]],
) -> None:
    assert {line[0] for line in command_lines} == {"controller", "explainer", "gateway", "registry"}


def test_every_command_line_a_manifest_runs_is_accepted_by_tfprods_parser(
    command_lines: list[list[str]],
) -> None:
    parser = build_parser()
    for line in command_lines:
        args = parser.parse_args(line)  # argparse exits 2 on an unknown or missing flag
        assert args.command == line[0]


def test_every_command_a_manifest_runs_has_help_exiting_0(
    command_lines: list[list[str]],
) -> None:
    for command in sorted({line[0] for line in command_lines}):
        result = subprocess.run(
            [sys.executable, "-m", "tfprod", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert (result.returncode, result.stderr) == (0, ""), command
        assert result.stdout.startswith(f"usage: tfprod {command} ")
