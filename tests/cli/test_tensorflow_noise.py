"""TensorFlow's C++ start-up log stays out of tfprod's own commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples.toy_models import export_tiny_classifier

# The lines TensorFlow 2.21 prints on import here, whatever TF_CPP_MIN_LOG_LEVEL says.
NOISE = ("absl::InitializeLog", "oneDNN custom operations", "cuda drivers", "cpu_feature_guard")


def _without_log_level() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def test_importing_tensorflow_alone_prints_the_noise_this_test_guards_against() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        capture_output=True,
        text=True,
        check=True,
        env=_without_log_level(),
    )
    assert [word for word in NOISE if word in result.stderr] == list(NOISE)


@pytest.mark.slow
def test_registry_push_prints_no_tensorflow_log_lines(tmp_path: Path) -> None:
    model = export_tiny_classifier(tmp_path / "model", epochs=1)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "tfprod", "registry", "push", str(model)),
            *("--name", "churn", "--version", "v1"),
            *("--registry", (tmp_path / "registry").as_uri()),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=_without_log_level(),
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_a_failing_tensorflow_import_still_shows_what_was_printed(tmp_path: Path) -> None:
    # A stand-in package named tensorflow that writes to fd 2 and fails, found first on the path.
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os\nos.write(2, b'E0000 loader: libtensorflow missing\\n')\n"
        "raise ImportError('no libtensorflow')\n"
    )
    inherited = os.environ.get("PYTHONPATH")
    path = [str(tmp_path), *([inherited] if inherited else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    result = subprocess.run(
        [sys.executable, "-c", "from tfprod.cli._app import quiet_tensorflow_import as q; q()"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("E0000 loader: libtensorflow missing\n")
    assert result.stderr.endswith("ImportError: no libtensorflow\n")


def test_commands_leave_a_log_level_the_user_set_alone() -> None:
    code = (
        "import os, sys; from tfprod.cli import main; main(['policy', 'schema']);"
        " sys.stderr.write(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=_without_log_level(),
    )
    chosen = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert (quiet.stderr, chosen.stderr) == ("2", "0")


def test_parsing_the_command_line_loads_neither_tensorflow_nor_node() -> None:
    code = (
        "import sys; from tfprod.cli._app import build_parser; build_parser();"
        " print(sorted(m for m in ('cdktn', 'jsii', 'pydantic', 'tensorflow') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"
