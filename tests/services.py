"""Helpers for tests that need a real local service (moto, Azurite, Prometheus, ...).

A test may skip for a missing service only when TFPROD_REQUIRE_SERVICES is unset;
CI sets it to 1, and there a missing service fails the test.
"""

from __future__ import annotations

import os
import socket

import pytest


def services_required() -> bool:
    return os.environ.get("TFPROD_REQUIRE_SERVICES", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    """Skip the calling test with `reason`, or fail it when services are required."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
