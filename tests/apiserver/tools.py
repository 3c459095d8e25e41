"""Where scripts/install-kube-apiserver.sh put the real binaries (its `tools.json`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from tests.services import skip_or_fail

INSTALL = "bash scripts/install-kube-apiserver.sh"


@dataclass(frozen=True, kw_only=True)
class Tools:
    """The built binaries, as the install script recorded them."""

    etcd: Path
    kube_apiserver: Path


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "tfprod-tools"
    return Path(os.environ.get("TFPROD_TOOLS_CACHE", str(default)))


def require(*paths: Path) -> None:
    """Skip (fail when services are required) unless every one of `paths` exists."""
    for path in paths:
        if not path.is_file():
            skip_or_fail(f"{path} is missing: run `{INSTALL}` (make kube-apiserver)")


def find_tools() -> Tools:
    """The tools as recorded (checked by what starts them); a skip, or a failure when services
    are required, if there is no record."""
    manifest = cache_dir() / "tools.json"
    if not manifest.is_file():
        skip_or_fail(f"no {manifest}: run `{INSTALL}` (make kube-apiserver)")
    recorded = json.loads(manifest.read_text())
    return Tools(etcd=Path(recorded["etcd"]), kube_apiserver=Path(recorded["kube_apiserver"]))
