"""Where the embedded platform keeps its registry and its running state.

`$TFPROD_HOME` (default `~/.tfprod`) holds the registry (`registry/`, a `file://` registry
kept across sessions, so a model registered once is found again) and one work directory per
running session (`sessions/<pid>/`: pulled models, status files, logs; removed at shutdown).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "TFPROD_HOME"
DEFAULT_HOME = Path("~/.tfprod")


def home() -> Path:
    """`$TFPROD_HOME`, else `~/.tfprod`, as an absolute path."""
    return Path(os.environ.get(HOME_VARIABLE) or DEFAULT_HOME).expanduser().resolve()


def registry_uri() -> str:
    """The session's registry: `file://$TFPROD_HOME/registry`."""
    return (home() / "registry").as_uri()


def session_dir() -> Path:
    """This process's platform work directory."""
    return home() / "sessions" / str(os.getpid())
