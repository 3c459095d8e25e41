"""Helpers for tests that need a real local service (moto, Azurite, Prometheus, ...).

A test may skip for a missing service only when TFPROD_REQUIRE_SERVICES is unset;
CI sets it to 1, and there a missing service fails the test.
"""

from __future__ import annotations

import os

import pytest

from tfprod.runtime.local.ports import free_port

__all__ = ["free_port", "services_required", "skip_or_fail"]


def services_required() -> bool:
    return os.environ.get("TFPROD_REQUIRE_SERVICES", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    """Skip the calling test (or, called at module level, the whole module) with `reason`, or
    fail it when services are required."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason, allow_module_level=True)
