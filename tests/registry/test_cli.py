"""`tfprod registry` subcommands on a file:// registry (the backends are covered elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfprod.cli import main
from tfprod.runtime.registry import Registry, open_store


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    registry = f"file://{tmp_path / 'registry'}"
    monkeypatch.setenv("TFPROD_REGISTRY", registry)
    return registry


def test_push_publishes_a_version_with_metadata_and_metrics(
    uri: str, saved_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            *("registry", "push", str(saved_model_dir), "--name", "churn", "--version", "v1"),
            *("--metadata", "owner=risk", "--metric", "auc=0.9", "--dataset-version", "ds-7"),
        ]
    )

    assert code == 0
    assert capsys.readouterr().out == (
        f"published churn v1 (TF Serving version 1, 4 files) to {uri}\n"
    )
    version = Registry.open(uri).get("churn", "v1")
    assert (version.metadata, version.metrics, version.dataset_version) == (
        {"owner": "risk"},
        {"auc": 0.9},
        "ds-7",
    )


def test_list_alias_show_and_pull(
    uri: str, saved_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = Registry(open_store(uri), clock=lambda: "2026-11-30T12:00:00+00:00")
    registry.register(saved_model_dir, name="churn", version="v1")
    registry.register(saved_model_dir, name="churn", version="v2")
    capsys.readouterr()

    assert main(["registry", "alias", "churn", "stable", "v1", "--reason", "passed canary"]) == 0
    assert capsys.readouterr().out == "churn: stable -> v1\n"
    assert main(["registry", "list"]) == 0
    assert capsys.readouterr().out == "churn\n"
    assert main(["registry", "list", "churn"]) == 0
    assert capsys.readouterr().out == (
        "v1\t1\t2026-11-30T12:00:00+00:00\tstable\nv2\t2\t2026-11-30T12:00:00+00:00\n"
    )
    assert main(["registry", "show", "churn", "stable"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["version"], shown["serving_version"], shown["aliases"]) == ("v1", 1, ["stable"])
    assert [item["path"] for item in shown["files"]][:2] == ["fingerprint.pb", "saved_model.pb"]
    assert main(["registry", "pull", "churn", "v2", "--out", str(tmp_path / "models")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'models' / 'churn' / '2'}\n"
    assert (tmp_path / "models" / "churn" / "2" / "saved_model.pb").is_file()


def test_registry_option_overrides_the_environment(
    uri: str, tmp_path: Path, saved_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = f"file://{tmp_path / 'other'}"
    Registry.open(other).register(saved_model_dir, name="fraud", version="1")
    capsys.readouterr()

    assert main(["registry", "list", "--registry", other]) == 0
    assert capsys.readouterr().out == "fraud\n"
    assert main(["registry", "list"]) == 2  # $TFPROD_REGISTRY: nothing was pushed there
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"tfprod registry: error: no registry at {uri}: nothing was ever pushed there; "
        "check the URI\n"
    )


def test_pull_of_a_tampered_version_exits_1_naming_the_file(
    uri: str, saved_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Registry.open(uri).register(saved_model_dir, name="churn", version="v1")
    store = open_store(uri)
    (key,) = [key for key in store.list("models/") if key.endswith("/saved_model.pb")]
    stored = store.get(key)
    store.put_if_match(key, b"not a model", stored.token)
    capsys.readouterr()

    code = main(["registry", "pull", "churn", "v1", "--out", str(tmp_path / "models")])

    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith(
        "tfprod registry: error: checksum mismatch for saved_model.pb of model 'churn' "
        "version 'v1': expected sha256 "
    )
    assert error.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["registry", "push", "{model}", "--name", "churn", "--version", "v1"],
            "model 'churn' version 'v1' is already published and versions are immutable; "
            "register it under a new version",
        ),
        (
            ["registry", "push", "{model}", "--name", "Churn!", "--version", "v2"],
            "model name 'Churn!' is not allowed: it must match [a-z0-9][a-z0-9._-]{0,62}",
        ),
        (
            [
                "registry",
                "push",
                "{model}",
                "--name",
                "churn",
                "--version",
                "v2",
                "--metadata",
                "x",
            ],
            "--metadata 'x' must be KEY=VALUE",
        ),
        (
            [
                "registry",
                "push",
                "{model}",
                "--name",
                "churn",
                "--version",
                "v2",
                "--metric",
                "a=b",
            ],
            "--metric a='b': the value must be a number",
        ),
        (
            [
                "registry",
                "push",
                "{model}",
                "--name",
                "churn",
                "--version",
                "v2",
                "--metric",
                "a=nan",
            ],
            "metric 'a' must be a finite number, got nan",
        ),
        (
            ["registry", "push", "/nonexistent", "--name", "churn", "--version", "v2"],
            "/nonexistent is not a SavedModel directory: it has no saved_model.pb",
        ),
        (
            ["registry", "show", "churn", "v9"],
            "version or alias 'v9' of model 'churn' not found; available: v1",
        ),
        (
            ["registry", "alias", "churn", "stable", "v9"],
            "version 'v9' of model 'churn' not found; available: v1",
        ),
        (
            ["registry", "list", "--registry", "ftp://host/x"],
            "unsupported registry URI 'ftp://host/x': use one of file://, s3://, gs://, az://",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    uri: str,
    saved_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    Registry.open(uri).register(saved_model_dir, name="churn", version="v1")
    capsys.readouterr()

    code = main([arg.replace("{model}", str(saved_model_dir)) for arg in argv])

    assert code == 2
    assert capsys.readouterr().err == f"tfprod registry: error: {message}\n"


def test_missing_required_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["registry", "pull", "churn", "v1"])

    assert raised.value.code == 2
    assert capsys.readouterr().err.endswith("error: the following arguments are required: --out\n")


def test_pull_into_an_unwritable_place_exits_2_naming_it(
    uri: str, saved_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Registry.open(uri).register(saved_model_dir, name="churn", version="v1")
    (tmp_path / "a-file").write_text("")
    capsys.readouterr()

    code = main(["registry", "pull", "churn", "v1", "--out", str(tmp_path / "a-file")])

    assert code == 2
    assert capsys.readouterr().err == (
        f"tfprod registry: error: {tmp_path / 'a-file' / 'churn'}: Not a directory\n"
    )
