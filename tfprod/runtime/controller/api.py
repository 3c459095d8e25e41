"""The controller's HTTP API: status, history and A/B results of each deployment, and commands.

`build_api(view, admin_token)` serves what a `ControllerView` (the controller loop) shows.
"""

from __future__ import annotations

from typing import Protocol

from tfprod.policy import DeploymentStatus, Policy
from tfprod.runtime.controller.observation import Command


class ControllerView(Protocol):
    """What the API reads from, and sends commands to, the running controller."""

    def deployments(self) -> list[str]:
        """Deployment names, sorted."""
        ...

    def policy(self, deployment: str) -> Policy:
        """The deployment's Policy; KeyError if unknown."""
        ...

    def status(self, deployment: str) -> DeploymentStatus | None:
        """The status last written or read; None before there is one (declared weights)."""
        ...

    def submit(self, deployment: str, command: Command) -> None:
        """Queue `command` for the deployment's next tick."""
        ...
