"""Following each deployment's status document and mounted Policy while the gateway runs.

Every `poll_seconds` the gateway looks at each deployment's status document and, with
`--policies`, at its mounted `policy.json` and `endpoints.json`:

- locally the status is the file `<status dir>/<deployment>-status.json`; a poll is one
  `stat` (mtime, size, inode) and the file is read only when that changed. Writers replace it
  atomically (`tfprod.policy.write_status`), so a read never sees half a document.
- in a cluster it is the ConfigMap `<deployment>-status` (key `status.json`), read with one GET
  of `/api/v1/namespaces/{ns}/configmaps/{name}` using the pod's service-account token and CA;
  the document is parsed only when the ConfigMap's `resourceVersion` changed. A 404 means no
  status yet: the declared weights apply.

A change reaches a gateway within `poll_seconds` plus one read, which must stay under each
Policy's `actuation_bound_seconds` (the CLI checks it at start). A document the gateway cannot
use (unreadable, invalid, or naming other versions than the route's) leaves the weights it
serves unchanged and shows as `status_problem` in `/admin/v1/state`; the generation it reports
stays the one it really serves. At start the port opens only once every status source has
answered (a missing document is an answer), so a gateway never serves declared weights only
because it could not read the live ones. Policy changes rebuild the deployment's route in place
(breakers of unchanged upstreams carry over); an invalid one keeps the running route and shows
as `policy_problem`. Adding or removing a deployment needs a restart, as it does in a cluster,
where the gateway's pod spec lists the mounted deployments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    STATUS_KEY,
    DeploymentStatus,
    PolicyError,
    next_status,
    parse_status,
    read_status,
    status_configmap_name,
    status_file_name,
    write_status,
)
from tfprod.policy.status import status_write_lock
from tfprod.runtime.gateway.config import ConfigError, Route
from tfprod.runtime.gateway.state import RouteState

_log = logging.getLogger(__name__)

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_POLL_SECONDS = 0.5


@dataclass(frozen=True, kw_only=True)
class KubernetesApi:
    """Where the status ConfigMaps are read from. `ca_file` is used for https URLs."""

    url: str
    namespace: str
    token_file: str = f"{SERVICE_ACCOUNT_DIR}/token"
    ca_file: str = f"{SERVICE_ACCOUNT_DIR}/ca.crt"


@dataclass(frozen=True, kw_only=True)
class Following:
    """What a running gateway follows. `status_dir` (local files) or `kubernetes` (status
    ConfigMaps) give the status source, at most one; neither: declared weights only, admin
    weight changes held in memory. `policies_dir` set: mounted policy changes are followed.
    `poll_seconds` (default 0.5) is the time between two looks."""

    status_dir: Path | None = None
    kubernetes: KubernetesApi | None = None
    policies_dir: Path | None = None
    poll_seconds: float = DEFAULT_POLL_SECONDS


class StatusReadOnlyError(Exception):
    """This gateway only reads the status document; another part (the controller) writes it."""


_UNCHANGED: Any = object()


class FileStatus:
    """A deployment's local status file, re-read only when its stat changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None

    def where(self) -> str:
        return str(self.path)

    def forget(self) -> None:
        self._seen = None

    async def poll(self, _session: aiohttp.ClientSession | None) -> Any:
        """The status (None: no file) if the file changed since the last poll, else
        `_UNCHANGED`."""
        try:
            info = os.stat(self.path)
            seen = (info.st_mtime_ns, info.st_size, info.st_ino)
        except FileNotFoundError:
            seen = (0, 0, 0)
        if seen == self._seen:
            return _UNCHANGED
        status = read_status(self.path)
        self._seen = seen
        return status

    def write_next(
        self, deployment: str, weights: dict[str, float], policy: str, writer: str
    ) -> DeploymentStatus:
        """Writes the next generation with `weights`, under a lock so that two writers (two
        gateway replicas' admin APIs) never write the same generation."""
        with status_write_lock(self.path):
            status = next_status(
                read_status(self.path),
                deployment=deployment,
                weights=weights,
                policy=policy,
                writer=writer,
            )
            write_status(self.path, status)
        return status


class ConfigMapStatus:
    """A deployment's status ConfigMap, read through the Kubernetes API."""

    def __init__(self, api: KubernetesApi, deployment: str) -> None:
        self.api = api
        self.name = status_configmap_name(deployment)
        self.url = f"{api.url}/api/v1/namespaces/{api.namespace}/configmaps/{self.name}"
        self._seen: str | None = None

    def where(self) -> str:
        return f"configmap {self.api.namespace}/{self.name}"

    def forget(self) -> None:
        self._seen = None

    async def poll(self, session: aiohttp.ClientSession | None) -> Any:
        assert session is not None
        token = Path(self.api.token_file).read_text(encoding="utf-8").strip()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        async with session.get(self.url, headers=headers) as answer:
            body = await answer.read()
            if answer.status == 404:
                seen, status = "absent", None
            elif answer.status != 200:
                raise PolicyError(f"{self.where()}: GET answered {answer.status}: {_message(body)}")
            else:
                document = json.loads(body)
                seen = str(document.get("metadata", {}).get("resourceVersion", ""))
                if seen and seen == self._seen:
                    return _UNCHANGED
                text = (document.get("data") or {}).get(STATUS_KEY)
                if not isinstance(text, str):
                    raise PolicyError(f"{self.where()}: has no key {STATUS_KEY!r}")
                status = parse_status(text, self.where())
        if seen == self._seen:
            return _UNCHANGED
        self._seen = seen
        return status


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


StatusSource = FileStatus | ConfigMapStatus


class _MountedPolicy:
    """A deployment's mounted policy and endpoints files, re-read when either's stat changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen = self._stat()

    def _stat(self) -> tuple[tuple[int, int, int], ...]:
        stats = []
        for name in (CONFIGMAP_KEY, ENDPOINTS_KEY):
            try:
                info = os.stat(self.directory / name)
                stats.append((info.st_mtime_ns, info.st_size, info.st_ino))
            except FileNotFoundError:
                stats.append((0, 0, 0))
        return tuple(stats)

    def changed(self) -> bool:
        seen = self._stat()
        if seen == self._seen:
            return False
        self._seen = seen
        return True


class FollowTarget(Protocol):
    """What the follower changes (the gateway)."""

    states: dict[str, RouteState]

    def apply_status(self, model: str, status: DeploymentStatus | None, where: str) -> None: ...

    def status_problem(self, model: str, problem: str) -> None: ...

    def replace_route(self, route: Route) -> None: ...


class Follower:
    """Polls every deployment's status source (and mounted policy) and applies changes."""

    def __init__(
        self,
        gateway: FollowTarget,
        following: Following,
        read_route: Callable[[Path], Route],
    ) -> None:
        self.gateway = gateway
        self.following = following
        self._read_route = read_route
        self.sources: dict[str, StatusSource] = {}
        for model in gateway.states:
            if following.status_dir is not None:
                self.sources[model] = FileStatus(following.status_dir / status_file_name(model))
            elif following.kubernetes is not None:
                self.sources[model] = ConfigMapStatus(following.kubernetes, model)
        self.policies = (
            {}
            if following.policies_dir is None
            else {model: _MountedPolicy(following.policies_dir / model) for model in gateway.states}
        )
        self.writer = f"gateway admin API on {socket.gethostname()}:{os.getpid()}"
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def source(self, model: str) -> StatusSource | None:
        return self.sources.get(model)

    async def start(self) -> None:
        """Reads every status (so a restarted gateway serves the live weights from its first
        request), then keeps polling in the background.

        Until every status source has answered (a missing document counts as an answer: the
        declared weights), it retries every poll interval and the port stays closed: a
        gateway that cannot tell whether a rollback happened must not serve the declared
        weights (a cluster keeps the pod unready; the problem is logged)."""
        if self.following.kubernetes is not None:
            connector = aiohttp.TCPConnector(ssl=_tls(self.following.kubernetes))
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout())
            )
        while not await self.poll_once():
            await asyncio.sleep(self.following.poll_seconds)
        self._task = asyncio.create_task(self._run())

    def _timeout(self) -> float:
        return max(1.0, self.following.poll_seconds * 2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.following.poll_seconds)
            await self.poll_once()

    async def poll_once(self) -> bool:
        """One look at every mounted policy and status source; True if every source answered."""
        for model, mounted in self.policies.items():
            if mounted.changed():
                self._reload_policy(model, mounted.directory)
        answered = True
        for model, source in self.sources.items():
            try:
                status = await asyncio.wait_for(source.poll(self._session), self._timeout())
            except (PolicyError, OSError, ValueError, aiohttp.ClientError, TimeoutError) as error:
                where = "" if isinstance(error, PolicyError) else f"{source.where()}: "
                self.gateway.status_problem(model, f"{where}{_describe(error)}")
                source.forget()  # the next good read applies (and clears the problem)
                answered = False
                continue
            if status is not _UNCHANGED:
                self.gateway.apply_status(model, status, source.where())
        return answered

    def _reload_policy(self, model: str, directory: Path) -> None:
        try:
            route = self._read_route(directory)
            if route.model != model:
                raise ConfigError(f"{directory}: names deployment {route.model!r}")
        except ConfigError as error:
            problem = f"keeping the running policy: {error}"
            if self.gateway.states[model].policy_problem != problem:
                _log.warning("%s: %s", model, problem)
            self.gateway.states[model].policy_problem = problem
            return
        self.gateway.replace_route(route)
        _log.info("policy of %s reloaded from %s", model, directory)
        source = self.sources.get(model)
        if source is not None:
            source.forget()  # re-apply the live weights to the new route on the next poll


def _tls(api: KubernetesApi) -> ssl.SSLContext | bool:
    """TLS trusting the cluster's CA for an https API URL; plain HTTP otherwise (tests)."""
    if not api.url.startswith("https://"):
        return False
    try:
        return ssl.create_default_context(cafile=api.ca_file)
    except OSError as error:
        raise ConfigError(f"kubernetes CA file {api.ca_file}: {_describe(error)}") from None


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
