import os
import subprocess
import sys

from tests.leaks import SESSION_MARK, leftover_processes, marked_processes


def test_a_process_the_session_started_is_found_and_killed_once_the_grace_is_over() -> None:
    session = os.environ[SESSION_MARK]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert marked_processes(session)[child.pid].endswith("-c import time; time.sleep(60)")
        assert child.pid in leftover_processes(session, grace_s=0.0)
        assert child.wait(timeout=10) == -9
    finally:
        child.kill()
        child.wait()


def test_a_process_of_another_session_is_not_counted() -> None:
    env = {**os.environ, SESSION_MARK: "another-session"}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        assert child.pid not in marked_processes(os.environ[SESSION_MARK])
        assert child.pid in marked_processes("another-session")
    finally:
        child.kill()
        child.wait()
