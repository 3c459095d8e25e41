"""The real `tfprod status|promote|abort|pause|resume|history` in a subprocess against the
controller API served on loopback over the in-memory view, fed by real decide() ticks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller_api.view import TOKEN, Driven, InMemoryView, served
from tfprod.runtime.controller import Command

DEPLOYMENT = "recommendation-engine"
REPO = Path(__file__).resolve().parents[2]
"""On PYTHONPATH of the CLI processes, which run in a temporary directory."""


def tfprod(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TFPROD_CONTROLLER")}
    environment["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "tfprod", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environment, **env},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[tuple[Driven, str, Path]]:
    view = InMemoryView({DEPLOYMENT: canary_policy(criteria={"error_rate": "< 1%"})})
    driven = Driven(view, DEPLOYMENT, healthy())
    driven.run_until(70)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with served(view, clock=driven.now) as url:
        yield driven, url, token_file


def test_status_shows_phase_weights_step_and_checks(
    controller: tuple[Driven, str, Path], tmp_path: Path
) -> None:
    _, url, token = controller

    done = tfprod(
        "status", DEPLOYMENT, "--controller", url, "--token-file", str(token), cwd=tmp_path
    )

    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[1:4] == [
        "phase       progressing",
        f"weights     {STABLE} 75%, {CANARY} 25%",
        f"step        2 of 3: {CANARY} at 25%, 8 s in step, next 50% in 52 s at the earliest",
    ]
    assert lines[4:] == [
        "check       data: pass: 100+ requests per version",
        "check       criterion error_rate < 1%: pass: error_rate 0.789% (stable 0.156%) meets"
        " error_rate < 1%",
    ]


def test_url_and_token_come_from_the_environment(
    controller: tuple[Driven, str, Path], tmp_path: Path
) -> None:
    _, url, token = controller

    done = tfprod(
        "status", cwd=tmp_path, TFPROD_CONTROLLER_URL=url, TFPROD_CONTROLLER_TOKEN_FILE=str(token)
    )

    assert (done.returncode, done.stderr) == (0, "")
    generation = done.stdout.split("generation ")[-1].strip()
    assert done.stdout == (
        f"{DEPLOYMENT}: progressing, step 2, {STABLE} 75%, {CANARY} 25%, generation {generation}\n"
    )


def test_the_default_files_are_tfprod_ups(
    controller: tuple[Driven, str, Path], tmp_path: Path
) -> None:
    _, url, token = controller
    workdir = tmp_path / ".tfprod" / "up"
    workdir.mkdir(parents=True)
    (workdir / "controller.url").write_text(url + "\n")
    (workdir / "admin-token").write_text(token.read_text())

    done = tfprod("history", DEPLOYMENT, cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"2026-12-01T00:00:00+00:00  start      rollout of {CANARY} starts",
        "2026-12-01T00:00:02+00:00  progress   first weights served by every replica"
        " (generation 2)",
        f"2026-12-01T00:01:02+00:00  step       {CANARY} to 25% (step 2 of 3)",
    ]


@pytest.mark.parametrize("kind", ["promote", "abort", "pause", "resume"])
def test_a_command_is_queued_for_the_next_tick(
    controller: tuple[Driven, str, Path], tmp_path: Path, kind: str
) -> None:
    driven, url, token = controller

    done = tfprod(
        kind,
        DEPLOYMENT,
        "--by",
        "alice",
        "--controller",
        url,
        "--token-file",
        str(token),
        cwd=tmp_path,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{DEPLOYMENT}: {kind} queued (by alice)\n"
    assert driven.view.take(DEPLOYMENT) == (Command(kind=kind, by="alice"),)  # type: ignore[arg-type]


def test_a_paused_rollout_shows_paused_after_the_tick(
    controller: tuple[Driven, str, Path], tmp_path: Path
) -> None:
    driven, url, token = controller
    connection = ("--controller", url, "--token-file", str(token))

    tfprod("pause", DEPLOYMENT, "--by", "alice", *connection, cwd=tmp_path)
    driven.run_until(100)
    done = tfprod("status", DEPLOYMENT, *connection, cwd=tmp_path)

    assert done.stdout.splitlines()[1] == "phase       paused"
    assert f"{CANARY} at 25%, 0 s in step, next 50% held" in done.stdout


def test_watch_redraws_every_interval(controller: tuple[Driven, str, Path], tmp_path: Path) -> None:
    _, url, token = controller
    command = [
        sys.executable,
        "-m",
        "tfprod",
        "status",
        DEPLOYMENT,
        "--watch",
        "--interval",
        "0.2",
        "--controller",
        url,
        "--token-file",
        str(token),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    frames: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path, env=env
    ) as process:
        assert process.stdout is not None
        text = ""
        while len(frames) < 2:
            line = process.stdout.readline()
            assert line, "tfprod status --watch ended"
            if line.startswith("\x1b[H\x1b[2J") and text:
                frames.append(text)
                text = ""
            text += line
        process.terminate()

    assert len(frames) == 2
    for frame in frames:
        assert frame.startswith("\x1b[H\x1b[2Jdeployment  recommendation-engine")
        assert "phase       progressing\n" in frame


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (
            ("status", DEPLOYMENT, "--controller", "ftp://x"),
            {},
            "tfprod status: error: --controller: 'ftp://x' is not an http(s) URL, e.g."
            " http://127.0.0.1:8090",
        ),
        (
            ("status", "--interval", "0"),
            {},
            "tfprod status: error: --interval: must be more than 0 seconds, got 0",
        ),
        (
            ("history", DEPLOYMENT),
            {},
            "tfprod history: error: no controller URL: give --controller, set"
            " $TFPROD_CONTROLLER_URL, or run tfprod up (it writes .tfprod/up/controller.url)",
        ),
        (
            ("abort", DEPLOYMENT, "--controller", "http://127.0.0.1:1", "--token-file", "absent"),
            {},
            "tfprod abort: error: --token-file: cannot read absent: No such file or directory",
        ),
        (
            ("pause", DEPLOYMENT),
            {"TFPROD_CONTROLLER_URL": "nope"},
            "tfprod pause: error: $TFPROD_CONTROLLER_URL: 'nope' is not an http(s) URL, e.g."
            " http://127.0.0.1:8090",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], error: str
) -> None:
    done = tfprod(*args, cwd=tmp_path, **env)

    assert (done.returncode, done.stdout, done.stderr) == (2, "", error + "\n")


def test_an_unknown_deployment_or_wrong_token_exits_2_naming_it(
    controller: tuple[Driven, str, Path], tmp_path: Path
) -> None:
    _, url, token = controller
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")

    unknown = tfprod(
        "status", "fraud", "--controller", url, "--token-file", str(token), cwd=tmp_path
    )
    refused = tfprod(
        "history", DEPLOYMENT, "--controller", url, "--token-file", str(wrong), cwd=tmp_path
    )

    assert (unknown.returncode, unknown.stderr) == (
        2,
        f"tfprod status: error: unknown deployment 'fraud'; deployments: {DEPLOYMENT}\n",
    )
    assert (refused.returncode, refused.stderr) == (
        2,
        "tfprod history: error: controller token rejected\n",
    )


def test_an_unreachable_controller_exits_1_naming_its_url(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)

    done = tfprod(
        "status", "--controller", "http://127.0.0.1:9", "--token-file", str(token), cwd=tmp_path
    )

    assert done.returncode == 1
    assert done.stderr.startswith(
        "tfprod status: error: controller at http://127.0.0.1:9 unreachable: "
    )
    assert done.stderr.count("\n") == 1
