"""Leader election on a `coordination.k8s.io/v1` Lease, so only one controller acts at a time.

Built on `kubernetes.leaderelection` (its sync LeaseLock and `LeaderElection`'s
`try_acquire_or_renew`, which keep the Lease record and its resourceVersion checks), in a
thread of its own. Its `run()` loop is not used: it cannot be stopped, and it keeps believing it
leads for a whole `renew_deadline` counted from the start of a renewal round, which can end
after a rival, counting `lease_duration` from the last renewal it saw, took over.

Here a leader believes it leads until `renew_deadline` after it *sent* its last successful
renewal. A rival only takes over once it has seen the record unchanged for `lease_duration`,
counted from a read made after that renewal was written, so with
`lease_duration > renew_deadline` the two beliefs never overlap (both count time on this
machine's monotonic clock, or clocks that run at the same rate). `is_leader()` checks that
deadline itself, so it turns False on time even while a renewal request hangs; `on_stopped`
runs in the election thread when it notices, within one request timeout of the deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiClient, CoordinationV1Api, V1Lease
from kubernetes.leaderelection.electionconfig import Config
from kubernetes.leaderelection.leaderelection import LeaderElection
from kubernetes.leaderelection.leaderelectionrecord import LeaderElectionRecord
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

__all__ = ["LeaseElector", "LeaseTiming", "Term"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class LeaseTiming:
    """Lease durations in whole seconds (the Lease stores `leaseDurationSeconds` as an integer,
    and the library refuses periods under one second). Defaults are client-go's."""

    lease_duration: int = 15
    """How long a rival waits, after the last renewal it saw, before taking over. Default: 15."""
    renew_deadline: int = 10
    """How long the leader goes on leading without a successful renewal. Default: 10."""
    retry_period: int = 2
    """Seconds between tries to acquire or renew. Default: 2."""

    def __post_init__(self) -> None:
        for field in ("lease_duration", "renew_deadline", "retry_period"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field} must be a whole number of seconds >= 1, got {value!r}")
        if self.renew_deadline <= 1.2 * self.retry_period:
            raise ValueError(
                f"renew_deadline must exceed 1.2 x retry_period ({self.retry_period}), "
                f"got {self.renew_deadline}"
            )
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease_duration must exceed renew_deadline ({self.renew_deadline}), "
                f"got {self.lease_duration}"
            )


@dataclass(frozen=True, kw_only=True)
class Term:
    """A span of monotonic time during which this elector believed it led."""

    start: float
    end: float


class _TimedLeaseApi:
    """The three Lease calls LeaseLock makes, each with a request timeout (it sets none)."""

    def __init__(self, api: CoordinationV1Api, timeout: float) -> None:
        self._api = api
        self._timeout = timeout

    def read_namespaced_lease(self, name: str, namespace: str) -> V1Lease:
        return self._api.read_namespaced_lease(name, namespace, _request_timeout=self._timeout)

    def create_namespaced_lease(self, namespace: str, body: V1Lease) -> V1Lease:
        return self._api.create_namespaced_lease(namespace, body, _request_timeout=self._timeout)

    def replace_namespaced_lease(self, *, name: str, namespace: str, body: V1Lease) -> V1Lease:
        return self._api.replace_namespaced_lease(
            name=name, namespace=namespace, body=body, _request_timeout=self._timeout
        )


class LeaseElector:
    """Competes for the Lease `namespace/name` as `identity` until `stop()`."""

    def __init__(
        self,
        client: ApiClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: LeaseTiming = LeaseTiming(),
        on_started: Callable[[], None] = lambda: None,
        on_stopped: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """- `identity`: this candidate's name in the Lease (e.g. the pod name); unique.
        - `timing`: durations. Default: `LeaseTiming()` (15 s, 10 s, 2 s).
        - `on_started` / `on_stopped`: run in the election thread when this candidate starts
          or stops leading. `on_stopped` must make it stop acting at once. Default: nothing.
        - `clock`: monotonic seconds. Default: `time.monotonic`.
        """
        self.identity = identity
        self.timing = timing
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._clock = clock
        self._lease = LeaseLock(name, namespace, identity)
        # LeaseLock talks to the default client and sets no timeout: give it ours, with one.
        timed = _TimedLeaseApi(CoordinationV1Api(client), timing.retry_period)
        self._lease.api_instance = timed  # type: ignore[assignment]
        self._election = LeaderElection(
            Config(
                self._lease,
                timing.lease_duration,
                timing.renew_deadline,
                timing.retry_period,
                onstarted_leading=lambda: None,
                onstopped_leading=None,
            )
        )
        self._state = threading.Lock()
        self._leading = False
        self._started_at = 0.0
        self._deadline = 0.0
        self._terms: list[Term] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {name}", daemon=True)

    def start(self) -> None:
        """Start competing, in a daemon thread."""
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        """Stop competing: step down now and, with `release`, hand the Lease back so a rival
        takes over at its next try instead of after `lease_duration`."""
        self._stopping.set()
        if self._thread.ident is not None:
            self._thread.join()
        self._step_down(self._clock())
        if release:
            self._release()

    def is_leader(self) -> bool:
        """Whether this candidate leads now: act only while this is True."""
        with self._state:
            return self._leading and self._clock() < self._deadline

    @property
    def terms(self) -> tuple[Term, ...]:
        """The spans this candidate believed it led, oldest first (the current one ends now)."""
        with self._state:
            terms = list(self._terms)
            if self._leading:
                terms.append(Term(start=self._started_at, end=min(self._clock(), self._deadline)))
        return tuple(terms)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._step_down(self._clock(), expired_only=True)
            sent = self._clock()
            try:
                renewed = bool(self._election.try_acquire_or_renew())
            except Exception as error:  # a failed request must not end the election
                _log.warning("lease try by %s failed: %s", self.identity, type(error).__name__)
                renewed = False
            self._settle(sent, renewed)
            self._stopping.wait(self._wait())

    def _settle(self, sent: float, renewed: bool) -> None:
        """Take in the outcome of one try sent at `sent`."""
        now = self._clock()
        self._step_down(now, expired_only=True)
        if not renewed or now >= sent + self.timing.renew_deadline:
            return
        with self._state:
            starting = not self._leading
            if starting:
                self._leading = True
                self._started_at = now
            self._deadline = sent + self.timing.renew_deadline
        if starting:
            _log.info("%s leads lease %s", self.identity, self._lease.name)
            self._on_started()

    def _wait(self) -> float:
        """Seconds to the next try: the retry period, or less to notice the deadline on time."""
        with self._state:
            if not self._leading:
                return float(self.timing.retry_period)
            return max(0.0, min(self.timing.retry_period, self._deadline - self._clock()))

    def _step_down(self, now: float, *, expired_only: bool = False) -> None:
        with self._state:
            if not self._leading or (expired_only and now < self._deadline):
                return
            self._leading = False
            self._terms.append(Term(start=self._started_at, end=min(now, self._deadline)))
        _log.info("%s stopped leading lease %s", self.identity, self._lease.name)
        self._on_stopped()

    def _release(self) -> None:
        """Clear the holder if it is still us (a rival's write makes this a 409, left alone)."""
        try:
            found, record = self._lease.get(self._lease.name, self._lease.namespace)
            if not found or record.holder_identity != self.identity:
                return
            cleared: Any = LeaderElectionRecord(
                None, record.lease_duration, record.acquire_time, record.renew_time
            )
            self._lease.update(self._lease.name, self._lease.namespace, cleared)
        except Exception as error:  # releasing is a courtesy: the Lease expires anyway
            _log.warning("lease release by %s failed: %s", self.identity, type(error).__name__)
