"""Registry housekeeping: concurrent pulls, garbage collection of uploads, alias retention."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry.conftest import subprocess_env
from tfprod.cli import main
from tfprod.runtime.registry import SERVING_MAP_FILE, Registry, open_store


class _AbortError(Exception):
    """Stops an upload midway, as a crash would."""


def _abort_after_first_file(path: str) -> None:
    raise _AbortError(path)


@pytest.mark.slow
def test_concurrent_pulls_in_several_processes_lose_no_record(
    tmp_path: Path, saved_model_dir: Path
) -> None:
    processes, per_process = 4, 3
    root = f"file://{tmp_path / 'registry'}"
    registry = Registry.open(root)
    versions = [f"v{index}" for index in range(processes * per_process)]
    for version in versions:
        registry.register(saved_model_dir, name="churn", version=version)
    out = tmp_path / "models"
    children = [
        subprocess.Popen(
            [
                *(sys.executable, "-c", _PULLS, root, str(out)),
                *versions[worker * per_process : (worker + 1) * per_process],
            ],
            env=subprocess_env(),
        )
        for worker in range(processes)
    ]
    try:
        codes = [child.wait(timeout=180) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()

    assert codes == [0] * processes
    record = json.loads((out / "churn" / SERVING_MAP_FILE).read_text())
    assert record == {str(number): f"v{number - 1}" for number in range(1, len(versions) + 1)}


_PULLS = """
import sys
from pathlib import Path
from tfprod.runtime.registry import Registry

registry = Registry.open(sys.argv[1])
for version in sys.argv[3:]:
    registry.pull("churn", version, Path(sys.argv[2]))
"""


def test_gc_removes_an_orphaned_upload_and_leaves_every_committed_version(
    registry_uri: str, saved_model_dir: Path, tmp_path: Path
) -> None:
    registry = Registry.open(registry_uri)
    store = open_store(registry_uri)
    for version in ("v1", "v2"):
        registry.register(saved_model_dir, name="churn", version=version)
    committed = store.list("models/")
    with pytest.raises(_AbortError):
        registry.register(
            saved_model_dir, name="churn", version="v3", on_file_uploaded=_abort_after_first_file
        )
    orphan_keys = sorted(set(store.list("models/")) - set(committed))
    orphan_keys = [key for key in orphan_keys if "/uploads/" in key]

    too_young = registry.gc(older_than_seconds=3600, delete=True)
    listed = registry.gc(older_than_seconds=0)
    kept = store.list("models/")
    removed = registry.gc(older_than_seconds=0, delete=True)

    assert too_young == []
    assert [(item.name, item.version, item.objects) for item in listed] == [("churn", "v3", 1)]
    assert len(orphan_keys) == 1 and orphan_keys[0].split("/")[4] == listed[0].upload_id
    assert set(orphan_keys) <= set(kept)  # the dry run deleted nothing
    assert removed == listed
    assert store.list("models/") == sorted(set(committed) | (set(kept) - set(orphan_keys)))
    assert not set(orphan_keys) & set(store.list("models/"))
    assert set(committed) <= set(store.list("models/"))
    assert [item.version for item in registry.versions("churn")] == ["v1", "v2"]
    assert registry.pull("churn", "v2", tmp_path / "models").is_dir()
    assert registry.gc(older_than_seconds=0, delete=True) == []


def test_gc_command_is_a_dry_run_unless_told_to_delete(
    tmp_path: Path, saved_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = f"file://{tmp_path / 'registry'}"
    registry = Registry.open(root)
    registry.register(saved_model_dir, name="churn", version="v1")
    with pytest.raises(_AbortError):
        registry.register(
            saved_model_dir, name="churn", version="v2", on_file_uploaded=_abort_after_first_file
        )
    (orphan,) = registry.gc(older_than_seconds=0)
    capsys.readouterr()

    assert main(["registry", "gc", "--older-than", "0s", "--registry", root]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert main(["registry", "gc", "--older-than", "0s", "--delete", "--registry", root]) == 0
    done = capsys.readouterr().out.splitlines()
    assert main(["registry", "gc", "--older-than", "1 day", "--registry", root]) == 2

    assert dry[0].startswith(f"would remove upload {orphan.upload_id} of churn v2 (1 objects, ")
    assert dry[1] == "1 uncommitted uploads older than 0s; run with --delete to remove them"
    assert done[0].startswith(f"removed upload {orphan.upload_id} of churn v2 (1 objects, ")
    assert done[1] == "1 uncommitted uploads older than 0s"
    assert capsys.readouterr().err == (
        "tfprod registry: error: --older-than '1 day' must be a number with s, m, h or d, "
        "e.g. 24h\n"
    )
    assert registry.gc(older_than_seconds=0) == []
    assert [item.version for item in registry.versions("churn")] == ["v1"]


def test_alias_history_keeps_the_configured_number_of_changes_and_counts_the_rest(
    tmp_path: Path, saved_model_dir: Path
) -> None:
    root = f"file://{tmp_path / 'registry'}"
    Registry.open(root).register(saved_model_dir, name="churn", version="v1")
    limited = Registry.open(root, alias_history_limit=3)
    unlimited = Registry.open(root, alias_history_limit=None)

    for step in range(5):
        limited.set_alias("churn", "stable", "v1", reason=f"limited {step}")
        unlimited.set_alias("churn", "canary", "v1", reason=f"unlimited {step}")

    assert [change.reason for change in limited.alias_history("churn", "stable")] == [
        "limited 2",
        "limited 3",
        "limited 4",
    ]
    assert limited.dropped_alias_changes("churn", "stable") == 2
    assert len(unlimited.alias_history("churn", "canary")) == 5
    assert unlimited.dropped_alias_changes("churn", "canary") == 0


def test_alias_and_history_commands_say_when_changes_were_dropped(
    tmp_path: Path, saved_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = f"file://{tmp_path / 'registry'}"
    registry = Registry(open_store(root), clock=lambda: "2026-12-01T00:00:00+00:00")
    registry.register(saved_model_dir, name="churn", version="v1")
    registry.set_alias("churn", "stable", "v1", reason="first")
    capsys.readouterr()

    alias = ["registry", "alias", "churn", "stable", "v1", "--registry", root]
    assert main([*alias, "--reason", "second", "--history-limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "(history keeps the last 1 changes; 1 older ones dropped)"
    )
    assert main(["registry", "history", "churn", "stable", "--registry", root]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "(1 older changes dropped by the history limit)"
    assert lines[1].endswith("\tv1\tsecond")
    assert len(lines) == 2
    assert main([*alias, "--history-limit", "-1"]) == 2
    assert capsys.readouterr().err == (
        "tfprod registry: error: --history-limit -1: must be 0 (keep every change) or more\n"
    )


def test_a_uri_that_holds_no_registry_is_reported_for_every_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = f"file://{tmp_path / 'regsitry'}"
    message = f"tfprod registry: error: no registry at {typo}: nothing was ever pushed there; "

    for command in (["list"], ["list", "churn"], ["show", "churn", "v1"], ["gc"]):
        assert main(["registry", *command, "--registry", typo]) == 2
        assert capsys.readouterr().err == message + "check the URI\n"
