from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.policy.helpers import minimal_policy
from tfprod.cli import main
from tfprod.policy.schema import schema_text


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_check_accepts_a_valid_policy_and_reports_worst_case_rollback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = minimal_policy(canary={"version": "rec-v2.1.0", "steps": [[5, "1m"]]})
    path = write(tmp_path / "policy.json", document)

    assert main(["policy", "check", str(path)]) == 0

    assert capsys.readouterr().out == (
        f"{path}: valid policy 'recommendation-engine' (tfprod.dev/v1alpha1);"
        " worst-case time to rollback 375 s (no data during the rollout)\n"
    )


def test_check_prints_one_line_per_error_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = minimal_policy(
        name="Rec",
        traffic={"weights": {"rec-v2.0.0": 95}},
        safety={"fallback_version": "rec-v2.0.0", "triggers": {"error_rate >> 5%": "pause"}},
    )
    path = write(tmp_path / "policy.json", document)

    assert main(["policy", "check", str(path)]) == 2

    assert capsys.readouterr().err.splitlines() == [
        f"{path}: name: 'Rec' is not a DNS-1123 label: use 1 to 63 lower-case letters, digits"
        " or '-', starting and ending with a letter or digit",
        f"{path}: traffic.weights: traffic weights must sum to 100 (percent); got 95"
        " (rec-v2.0.0: 95)",
        f"{path}: safety.triggers.0.condition: invalid condition 'error_rate >> 5%': expected"
        " one of <, <=, >, >=, ==, != after 'error_rate' at column 12",
    ]


def test_check_names_cross_field_errors_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "p.json", minimal_policy(traffic={"weights": {"v9": 100}}))

    assert main(["policy", "check", str(path)]) == 2

    assert capsys.readouterr().err == (
        f"{path}: traffic.weights.v9: 'v9' is not a declared version; declared: rec-v2.0.0,"
        " rec-v2.1.0\n"
    )


def test_check_never_echoes_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnop"
    document = minimal_policy(monitor={"metrics": ["error_rate"], "alerts": {"slack": secret}})
    path = write(tmp_path / "p.json", document)

    assert main(["policy", "check", str(path)]) == 2

    captured = capsys.readouterr()
    assert secret not in captured.err + captured.out
    assert "monitor.alerts.slack_channel: slack channel looks like a Slack webhook URL" in (
        captured.err
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        (
            "{",
            "{path} is not JSON: Expecting property name enclosed in double quotes: line 1"
            " column 2 (char 1)",
        ),
    ],
)
def test_check_rejects_unreadable_files_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "policy.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    assert main(["policy", "check", str(path)]) == 2

    assert capsys.readouterr().err == f"tfprod policy: error: {message.format(path=path)}\n"


def test_schema_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0

    assert capsys.readouterr().out == schema_text()


def test_schema_writes_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "policy.schema.json"

    assert main(["policy", "schema", "--output", str(target)]) == 0

    assert target.read_text(encoding="utf-8") == schema_text()
