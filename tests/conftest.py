"""Suite-wide settings. Service fixtures live next to the tests that use them."""

import os
import uuid

import pytest

from tests.leaks import SESSION_MARK, leftover_processes

# Set before anything imports jsii (through cdktn): Node 20 is end of life but works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Inherited by every process the suite starts, so those left running at the end are found.
os.environ[SESSION_MARK] = uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run when a process it started (a server, `tfprod up` or a child of it) is
    still running once every fixture has been torn down; the leftovers are killed."""
    left = leftover_processes(os.environ[SESSION_MARK])
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  pid {pid}: {command}" for pid, command in sorted(left.items())]
        message = "processes the tests started are still running (killed now):\n"
        if reporter is not None:
            reporter.write_line(message + "\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
