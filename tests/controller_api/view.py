"""An in-memory `ControllerView` over real Policies and real status documents, and the
simulated controller loop (`tests.controller.simulation`) writing into it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tests.controller.policies import STABLE
from tests.controller.simulation import Platform, Run, at, simulate
from tests.gateway.upstream import ServerThread
from tests.policy.helpers import minimal_policy
from tfprod.policy import DeploymentStatus, Policy, policy_digest
from tfprod.runtime.controller import Command, build_api

TOKEN = "controller-test-token-0123456789"
CHALLENGER = "rec-v2.2.0"


class InMemoryView:
    """Policies by deployment, the status last written for each, and the commands queued."""

    def __init__(self, policies: dict[str, Policy]) -> None:
        self.policies = policies
        self.statuses: dict[str, DeploymentStatus] = {}
        self.queued: dict[str, list[Command]] = {}
        self._lock = threading.Lock()

    def deployments(self) -> list[str]:
        return sorted(self.policies)

    def policy(self, deployment: str) -> Policy:
        return self.policies[deployment]

    def status(self, deployment: str) -> DeploymentStatus | None:
        with self._lock:
            return self.statuses.get(deployment)

    def submit(self, deployment: str, command: Command) -> None:
        with self._lock:
            self.queued.setdefault(deployment, []).append(command)

    def take(self, deployment: str) -> tuple[Command, ...]:
        """The commands queued for `deployment`, removed from the queue."""
        with self._lock:
            return tuple(self.queued.pop(deployment, []))

    def write(self, deployment: str, status: Any, now: datetime) -> None:
        """Keep the controller's status (anything with generation, weights, policy_digest and
        rollout) as the deployment's status document, through its JSON form."""
        document = DeploymentStatus(
            deployment=deployment,
            generation=status.generation,
            weights=dict(status.weights),
            policy_digest=status.policy_digest,
            rollout=status.rollout,
            updated_at=now,
            writer="controller",
        )
        with self._lock:
            self.statuses[deployment] = DeploymentStatus.model_validate_json(
                document.model_dump_json()
            )


class Driven:
    """One deployment's controller loop in virtual time, its status shown through the view."""

    def __init__(self, view: InMemoryView, deployment: str, platform: Platform) -> None:
        self.view = view
        self.deployment = deployment
        self.platform = platform
        self.last: Run | None = None
        self.until = 0.0

    def now(self) -> datetime:
        """The virtual time the last `run_until` ran to (the API's clock)."""
        return at(self.until)

    def run_until(self, until: float) -> Run:
        """Tick until `until` (virtual seconds), delivering the commands queued in the view
        from the first tick on, in order, and show the last status written."""
        policy = self.view.policy(self.deployment)
        start = self.platform.clock
        queued = self.view.take(self.deployment)
        commands = {start + index * 1e-3: command for index, command in enumerate(queued)}
        run = simulate(
            policy,
            self.platform,
            until=until,
            status=None if self.last is None else self.last.final,
            commands=commands,
            stop_when_final=False,
        )
        self.last, self.until = run, until
        self.view.write(self.deployment, run.final, at(self.platform.clock))
        return run


def ab_policy() -> Policy:
    """Stable against challenger rec-v2.2.0 on conversion_rate, 50/50, for an hour."""
    document = minimal_policy(
        name="ranking",
        versions=[
            {"id": STABLE, "artifact": "s3://models/rec/v2.0.0", "role": "stable"},
            {"id": CHALLENGER, "artifact": "s3://models/rec/v2.2.0", "role": "challenger"},
        ],
        traffic={"weights": {STABLE: 50.0, CHALLENGER: 50.0}},
        ab_test={
            "control": STABLE,
            "treatment": CHALLENGER,
            "treatment_percent": 50,
            "metrics": ["conversion_rate"],
            "min_sample_size": 1000,
            "duration_seconds": 3600,
        },
    )
    return Policy.model_validate(document)


def declared_status(policy: Policy, generation: int, now: datetime) -> DeploymentStatus:
    """A status document carrying the declared weights and no rollout."""
    return DeploymentStatus(
        deployment=policy.name,
        generation=generation,
        weights=dict(policy.traffic.weights),
        policy_digest=policy_digest(policy),
        updated_at=now,
        writer="test",
    )


@contextmanager
def served(view: InMemoryView, clock: Any = None, token: str | None = TOKEN) -> Iterator[str]:
    """The controller API over `view` on 127.0.0.1; yields its base URL."""
    servers = ServerThread()
    try:
        options = {} if clock is None else {"clock": clock}
        yield servers.serve(lambda: build_api(view, token, **options))
    finally:
        servers.close()
