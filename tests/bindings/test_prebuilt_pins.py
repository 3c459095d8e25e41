"""The prebuilt providers that CI installs are the ones the committed snapshots were read from."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.bindings.oracle import require_prebuilt

ROOT = Path(__file__).parents[2]
SNAPSHOTS = ROOT / "tfprod" / "bindings" / "snapshots"
PROVIDER_PINS = "constraints-providers.txt"
INSTALL_PROVIDERS = f"pip install --quiet --no-deps -r {PROVIDER_PINS}"


def snapshot_packages() -> dict[str, str]:
    """Snapshot name -> the `package==version` its `tfprod.providers` metadata names."""
    found = {}
    for path in sorted(SNAPSHOTS.glob("*.json")):
        [info] = json.loads(path.read_text())["tfprod"]["providers"].values()
        found[path.stem] = info["cdktn_package"]
    return found


def pins(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def make_dry_run(target: str, venv: Path) -> str:
    """What `make <target>` would run on a machine with nothing installed yet (the flags of a
    `make test` running this suite are not passed on)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--dry-run", "-C", str(ROOT), f"VENV={venv}", target],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_constraints_pin_every_snapshots_prebuilt_package() -> None:
    packages = snapshot_packages()
    assert sorted(packages) == ["aws", "azurerm", "google", "kubernetes"]
    assert pins(PROVIDER_PINS) == {packages["aws"], packages["azurerm"], packages["google"]}
    assert packages["kubernetes"] in pins("constraints.txt")


def test_make_test_installs_the_pinned_providers_without_resolving(tmp_path: Path) -> None:
    assert INSTALL_PROVIDERS in make_dry_run("test", tmp_path / "venv")


def test_make_demo_does_not_install_the_prebuilt_providers(tmp_path: Path) -> None:
    dry_run = make_dry_run("demo", tmp_path / "venv")
    assert "pip install" in dry_run
    assert PROVIDER_PINS not in dry_run


def test_a_missing_prebuilt_package_skips_outside_ci_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = (
        "cdktn-provider-nosuchcloud is not installed (`make providers` installs the pinned one)"
    )
    monkeypatch.delenv("TFPROD_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_prebuilt("cdktn-provider-nosuchcloud")
    assert str(skipped.value) == reason
    monkeypatch.setenv("TFPROD_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_prebuilt("cdktn-provider-nosuchcloud")
    assert str(failed.value) == f"required service unavailable: {reason}"
    require_prebuilt("cdktn-provider-kubernetes")  # installed: neither skips nor fails
