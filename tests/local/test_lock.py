import os
from pathlib import Path

import pytest

from tfprod.runtime.local import WorkdirInUseError
from tfprod.runtime.local.lock import workdir_lock


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with workdir_lock(tmp_path / "work") as path:
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(WorkdirInUseError) as error, workdir_lock(tmp_path / "work"):
            pass
    assert str(error.value) == (
        f"work directory {tmp_path / 'work'} is in use by another local platform"
        f" (pid {os.getpid()}); stop it or give another --workdir"
    )


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with workdir_lock(tmp_path):
        pass
    with workdir_lock(tmp_path) as path:
        assert path.name == "up.lock"
