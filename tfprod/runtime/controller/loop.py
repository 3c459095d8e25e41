"""The controller's loop around `decide`: observe, decide, persist, act, look again.

Per deployment, one tick:

1. Only while this controller may act (`may_act`: the Lease elector's `is_leader` in a
   cluster; always locally). A controller that may not act observes nothing and acts on
   nothing.
2. Read the status document from its store (the status file, or the status ConfigMap): the
   document alone is what a tick resumes from, so a restarted controller carries on exactly
   where the last write left it, and a weight change made meanwhile through the gateway's
   admin API is seen. Without a document, the declared weights at generation 0, as the
   gateways serve them.
3. Observe once (`observe(policy)`: the direct gateway source or Prometheus; a source that
   failed is in `Observation.source_errors`, never an exception), with the commands people
   submitted since (`submit`).
4. `decide(policy, status, observation, now)`.
5. If the status changed, write it once, with `updated_at` (the loop's clock), `writer` and
   the current policy's digest. The write IS the route change: every gateway replica follows
   the document. The submitted commands are dropped once a status carrying their effect is
   written (an ignored command is logged there too).
   A change of evidence alone (running totals, the window, the checks' running tests: the
   triggers look every second) with no action is written at most once per check interval;
   until then the loop decides from the unwritten status it keeps, as long as the stored
   document is the one that status came from. So a watched deployment costs one write per
   check interval, not one per look (in a cluster, a ConfigMap update), and a restarted
   controller loses at most one check interval of evidence, never a routing change or a
   decision.
6. Then the notifications, through the notifier (Alertmanager or the console): after the
   write, never before, and never holding it up.
7. Look again after `requeue_after`, or at once when a command arrives.

A tick that fails (the store unreachable, a write refused) is logged and tried again after
`RETRY_SECONDS`; one deployment's failure never stops the others. The clock and the sleeper
are injected, so tests can run the loop in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tfprod.policy import DeploymentStatus, Policy, policy_digest
from tfprod.runtime.controller.actions import Notify, RouteChange
from tfprod.runtime.controller.decide import check_interval, decide
from tfprod.runtime.controller.observation import Command, Observation
from tfprod.runtime.controller.stores import StatusStore
from tfprod.runtime.notify import ControllerEvent, Notifier

log = logging.getLogger("tfprod.controller")

RETRY_SECONDS = 1.0
"""How soon a deployment whose tick failed is tried again."""
FOLLOWER_POLL_SECONDS = 1.0
"""How often a controller that may not act asks again whether it may."""
EVIDENCE_FIELDS = {"raw", "totals", "window", "checks"}
"""Rollout state that grows with every look; a change of these alone may wait to be written."""

Observe = Callable[[Policy], Awaitable[Observation]]
Sleeper = Callable[[float], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ControllerLoop:
    """Runs every deployment's rollout; implements the controller API's `ControllerView`."""

    def __init__(
        self,
        *,
        policies: Mapping[str, Policy],
        stores: Mapping[str, StatusStore],
        observe: Observe,
        notifier: Notifier,
        writer: str = "controller",
        may_act: Callable[[], bool] = lambda: True,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        """- `policies` / `stores`: by deployment name, the same names in both.
        - `observe`: one observation of a deployment (a source's `observe`).
        - `writer`: the status documents' `writer`. Default: "controller".
        - `may_act`: asked before each tick. Default: always (one local controller).
        - `clock` / `sleep`: UTC now and an async sleep. Default: the real ones.
        """
        if set(policies) != set(stores):
            raise ValueError(
                f"policies ({', '.join(sorted(policies))}) and status stores"
                f" ({', '.join(sorted(stores))}) name different deployments"
            )
        self._policies = dict(policies)
        self._stores = dict(stores)
        self._observe = observe
        self._notifier = notifier
        self._writer = writer
        self._may_act = may_act
        self._clock = clock
        self._sleep = sleep
        self._statuses: dict[str, DeploymentStatus | None] = {}
        self._commands: dict[str, list[Command]] = {name: [] for name in policies}
        self._due: dict[str, datetime] = {}
        self._wake = asyncio.Event()
        self._written_at: dict[str, datetime] = {}
        self._unwritten: dict[str, tuple[int, DeploymentStatus]] = {}
        """Per deployment: the generation of the stored document an unwritten status came
        from, and that status."""

    # ControllerView

    def deployments(self) -> list[str]:
        """Deployment names, sorted."""
        return sorted(self._policies)

    def policy(self, deployment: str) -> Policy:
        """The deployment's Policy; KeyError if unknown."""
        return self._policies[deployment]

    def status(self, deployment: str) -> DeploymentStatus | None:
        """The status last read or written; None before the first tick or without one."""
        self._policies[deployment]  # KeyError if unknown
        return self._statuses.get(deployment)

    def submit(self, deployment: str, command: Command) -> None:
        """Queue `command` for the deployment's next tick, which comes at once."""
        self._commands[deployment].append(command)
        self._due[deployment] = self._clock()
        self._wake.set()

    # The loop

    async def run(self) -> None:
        """Tick every deployment when it is due, forever (until cancelled)."""
        while True:
            if not self._may_act():
                await self._sleep(FOLLOWER_POLL_SECONDS)
                continue
            now = self._clock()
            for name in self.deployments():
                if self._due.get(name, now) <= now:
                    self._due[name] = now + timedelta(seconds=await self.tick_safely(name))
            wait = (min(self._due.values()) - self._clock()).total_seconds()
            await self._nap(max(wait, 0.0))

    async def tick_safely(self, deployment: str) -> float:
        """One tick of `deployment`; seconds until the next. A failure is logged, not raised."""
        try:
            return await self.tick(deployment)
        except Exception as error:  # one deployment's failure never stops the others
            log.error("%s: tick failed, trying again in %g s: %s", deployment, RETRY_SECONDS, error)
            return RETRY_SECONDS

    async def tick(self, deployment: str) -> float:
        """Observe, decide, write if changed, notify; returns `requeue_after`."""
        policy = self._policies[deployment]
        store = self._stores[deployment]
        stored = await asyncio.to_thread(store.read)
        self._statuses[deployment] = stored
        status = stored or _declared(policy, self._clock())
        base, unwritten = self._unwritten.pop(deployment, (-1, None))
        if unwritten is not None and base == status.generation:
            status = unwritten
        commands = tuple(self._commands[deployment])
        observation = await self._observe(policy)
        if commands:
            observation = replace(observation, commands=(*observation.commands, *commands))
        now = self._clock()
        decision = decide(policy, status, observation, now)
        if decision.next_status != status:
            written = decision.next_status.model_copy(
                update={
                    "updated_at": now,
                    "writer": self._writer,
                    "policy_digest": policy_digest(policy),
                }
            )
            last = self._written_at.get(deployment)
            if (
                last is not None
                and not decision.actions
                and _evidence_only(status, written)
                and (now - last).total_seconds() < check_interval(policy)
            ):
                # Kept with the stored document's generation and write stamp: not written.
                kept = decision.next_status.model_copy(update={"generation": status.generation})
                self._unwritten[deployment] = (status.generation, kept)
                self._statuses[deployment] = kept
            else:
                await asyncio.to_thread(store.write, written)
                self._written_at[deployment] = now
                self._statuses[deployment] = written
        del self._commands[deployment][: len(commands)]
        for action in decision.actions:
            if isinstance(action, RouteChange):
                log.info(
                    "%s: generation %d serves %s: %s",
                    deployment,
                    action.generation,
                    _weights(action.weights),
                    action.reason,
                )
            elif isinstance(action, Notify):
                self._notifier.publish(
                    ControllerEvent.from_notify(
                        action, deployment=deployment, namespace=policy.namespace, at=now
                    )
                )
        return decision.requeue_after

    async def _nap(self, seconds: float) -> None:
        """Sleep `seconds`, or less if a command arrives."""
        self._wake.clear()
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, woken):
                task.cancel()
            await asyncio.gather(sleeping, woken, return_exceptions=True)


def _evidence_only(before: DeploymentStatus, after: DeploymentStatus) -> bool:
    """Whether `after` differs from `before` in `EVIDENCE_FIELDS` of the rollout alone."""
    if before.weights != after.weights:
        return False
    evidence = {name: getattr(after.rollout, name) for name in EVIDENCE_FIELDS}
    return before.rollout.model_copy(update=evidence) == after.rollout


def _declared(policy: Policy, now: datetime) -> DeploymentStatus:
    """What the gateways serve without a status document: the declared weights, generation 0.

    Never written as is (`decide` raises the generation of any status it changes)."""
    return DeploymentStatus.model_construct(
        deployment=policy.name,
        generation=0,
        weights=dict(policy.traffic.weights),
        policy_digest=policy_digest(policy),
        updated_at=now,
        writer="declared",
    )


def _weights(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{version} {percent:g}%" for version, percent in weights.items())
