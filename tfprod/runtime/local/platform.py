"""`tfprod up`: every deployment's Policy run on one machine, as a cluster would run it.

Each version of each deployment is pulled from its registry (checksums verified) and served by
its own `tfprod serve` process, as a cluster runs one Deployment per version; one gateway
process routes between them with the Policy's weights, shadows, sticky key, fallback and
capture rate. The gateway reads the same files as in a cluster: each deployment's policy and
endpoints, laid out as the cluster mounts their ConfigMaps. Live weights live in each
deployment's status file under `<workdir>/status` (the cluster's status ConfigMap), which the
gateway follows and its admin API writes; it survives restarts of the gateway and of `tfprod
up`, and a status naming other versions than the policy's is ignored. The admin token and the
feedback-signing key are fresh random secrets in 0600 files under the work directory, as a
cluster mounts them from Secrets, never printed or passed on a command line.

When a deployment declares a ModelDebugger, `tfprod explainer` runs too, as in a cluster: it
pulls the versions itself, explains what the gateway forwards (`:explain`, `/explanations`)
and the samples the gateway captures (`--explainer-url`).

The controller runs as `tfprod controller`, as in a cluster, but observing the gateway's own
`/metrics` directly (`--gateway`) and writing the status files the gateway follows
(`--status-dir`); its API takes the admin token. When a deployment declares alert routes, a
real Alertmanager runs on loopback (`tfprod.runtime.local.alertmanager`) and the controller
posts its events there; otherwise (or when a Secret its routes need has no local value: one
log line says which) they are lines of the controller's log
(`<workdir>/logs/controller.log`).
"""

from __future__ import annotations

import functools
import logging
import secrets
import shutil
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    PROFILE_KEY,
    Policy,
    endpoints_json,
    policy_json,
    split_artifact_uri,
)
from tfprod.runtime.controller.process import HEALTH_PATH
from tfprod.runtime.local.alertmanager import (
    AlertmanagerOptions,
    LocalSecretError,
    RunningAlertmanager,
    start_alertmanager,
)
from tfprod.runtime.local.lock import workdir_lock
from tfprod.runtime.local.ports import ensure_port_free, free_port
from tfprod.runtime.local.private_files import write_private
from tfprod.runtime.local.processes import ProcessGroup, ProcessState, RestartPolicy, ServiceSpec
from tfprod.runtime.local.report import serve_report
from tfprod.runtime.registry import Registry

ADMIN_TOKEN_FILE = "admin-token"
FEEDBACK_KEY_FILE = "feedback-key"
FEEDBACK_KEY_FLAG = "--feedback-key-file"
_log = logging.getLogger("tfprod.local")
CONTROLLER_URL_FILE = "controller.url"
"""The controller API's URL, written in the work directory for the rollout commands."""


@dataclass(frozen=True, kw_only=True)
class PlatformOptions:
    """Where and how the local platform runs.

    `workdir` holds pulled models, generated configuration, the secrets and one log per
    process. `gateway_port` 0 picks a free port. `host` is where every process binds.
    `restart` is the backoff of restarts (default: `RestartPolicy()`'s figures).
    `controller_port` is the controller API's port (default 0: a free one); `alertmanager`
    how the local Alertmanager runs when one is needed (default: `AlertmanagerOptions()`).
    `fault_injection` starts every model server with `--enable_fault_injection`, so tests and
    demos can `PUT /admin/v1/faults` on it (default False)."""

    workdir: Path
    gateway_port: int = 8080
    host: str = "127.0.0.1"
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    controller_port: int = 0
    alertmanager: AlertmanagerOptions = field(default_factory=AlertmanagerOptions)
    fault_injection: bool = False


class LocalPlatform:
    """Every deployment's model servers and the gateway, supervised, for a `with` block.

    Entering takes the work directory's lock (`WorkdirInUseError` if another platform holds
    it) and checks the gateway port (`PortInUseError`) before anything starts; then pulls
    every version and starts its model server, then the gateway, and returns once the
    gateway answers. From then on a process that exits is restarted with backoff
    (`processes.RestartPolicy`) and the others keep serving. Leaving the block, by an
    exception or Ctrl-C included, stops everything started here and releases the lock."""

    def __init__(
        self,
        policies: Sequence[Policy],
        options: PlatformOptions,
        *,
        profiles: Mapping[str, str] | None = None,
    ) -> None:
        """`profiles`: the reference profile JSON each `DriftDetector` declared, by deployment
        name, laid out where the cluster mounts its ConfigMap. Default: None, no profiles."""
        self._policies = tuple(policies)
        self._profiles = dict(profiles or {})
        self._options = options
        self._stack = ExitStack()
        self._group = ProcessGroup(restart=options.restart)
        workdir = options.workdir.resolve()
        self.admin_token_file = workdir / ADMIN_TOKEN_FILE
        """The gateway's admin token (0600, fresh each run; never printed or on a command line)."""
        self.feedback_key_file = workdir / FEEDBACK_KEY_FILE
        """The key signing the gateway's request ids (0600, fresh each run)."""
        self.gateway_url = ""
        """`http://host:port` of the gateway, set once the platform runs."""
        self.report_url = ""
        """`http://host:port` of the processes' report (`/v1/processes`, `/metrics`)."""
        self.controller_url = ""
        """`http://host:port` of the controller API, set once the platform runs."""
        self.explainer_url: str | None = None
        """`http://host:port` of the explainer; None when no deployment has a ModelDebugger."""
        self.alertmanager_url: str | None = None
        """`http://host:port` of Alertmanager; None when no deployment declares alert routes."""
        self.status_dir = workdir / "status"
        """Each deployment's status file is here (the gateway follows, the controller writes)."""

    def __enter__(self) -> LocalPlatform:
        options = self._options
        with ExitStack() as stack:
            stack.enter_context(workdir_lock(options.workdir.resolve()))
            if options.gateway_port:
                ensure_port_free(options.host, options.gateway_port, flag="--port")
            stack.enter_context(self._group)
            self.gateway_url, self.explainer_url = _start_processes(
                self._policies, options, self._group, profiles=self._profiles
            )
            alertmanager = _start_alertmanager(self._policies, options, self._group)
            self.alertmanager_url = None if alertmanager is None else alertmanager.url
            self.controller_url = _start_controller(
                options, self._group, gateway_url=self.gateway_url, alertmanager=alertmanager
            )
            # Where `tfprod status|promote|...` find the controller by default.
            (options.workdir.resolve() / CONTROLLER_URL_FILE).write_text(
                self.controller_url + "\n", encoding="utf-8"
            )
            self._group.supervise_in_background()
            self.report_url = stack.enter_context(
                serve_report(self._group.states, host=options.host)
            )
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def states(self) -> tuple[ProcessState, ...]:
        """Every process of the platform, with its restart count."""
        return self._group.states()

    def stop(self, name: str) -> None:
        """Stops one process for good, as scaling its Deployment to zero would: no restart.
        Names are `gateway`, `controller`, `alertmanager`, `explainer` and
        `<deployment>/<version id>`."""
        self._group.stop(name)


def _start_processes(
    policies: Sequence[Policy],
    options: PlatformOptions,
    group: ProcessGroup,
    *,
    profiles: Mapping[str, str],
) -> tuple[str, str | None]:
    """Pulls every version, starts its model server, the explainer when a deployment has a
    ModelDebugger, and then the gateway, in `group`; returns the gateway's URL once it
    answers, and the explainer's (None without one)."""
    workdir = options.workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    mounted = workdir / "policies"
    shutil.rmtree(mounted, ignore_errors=True)  # only this run's deployments
    for policy in policies:
        endpoints = {
            version.id: _start_model_server(policy, version.id, version.artifact, options, group)
            for version in policy.versions
        }
        # Laid out as the cluster mounts the policy and endpoints ConfigMaps.
        directory = mounted / policy.name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIGMAP_KEY).write_text(policy_json(policy), encoding="utf-8")
        (directory / ENDPOINTS_KEY).write_text(endpoints_json(endpoints), encoding="utf-8")
        if policy.name in profiles:
            (directory / PROFILE_KEY).write_text(profiles[policy.name], encoding="utf-8")
    explainer_url = _start_explainer(policies, options, group)
    explainer_flags = [] if explainer_url is None else ["--explainer-url", explainer_url]
    token_file = write_private(workdir / ADMIN_TOKEN_FILE, secrets.token_urlsafe(32))
    key_file = write_private(workdir / FEEDBACK_KEY_FILE, secrets.token_urlsafe(32))
    port = options.gateway_port or free_port(options.host)
    gateway_url = f"http://{options.host}:{port}"
    group.start(
        ServiceSpec(
            name="gateway",
            argv=[
                *_tfprod(),
                "gateway",
                "--policies",
                str(mounted),
                "--admin-token-file",
                str(token_file),
                FEEDBACK_KEY_FLAG,
                str(key_file),
                *_status_flags(workdir),
                *explainer_flags,
                "--host",
                options.host,
                "--port",
                str(port),
                "--drain-seconds",
                "5",
            ],
            ready_url=f"{gateway_url}/metrics",
            log=workdir / "logs" / "gateway.log",
        )
    )
    return gateway_url, explainer_url


def _start_explainer(
    policies: Sequence[Policy], options: PlatformOptions, group: ProcessGroup
) -> str | None:
    """Starts `tfprod explainer` on the mounted policies when one has a debugger section
    (a ModelDebugger); returns its URL once it answers, or None."""
    if not any(policy.debugger is not None for policy in policies):
        return None
    workdir = options.workdir.resolve()
    port = free_port(options.host)
    url = f"http://{options.host}:{port}"
    group.start(
        ServiceSpec(
            name="explainer",
            argv=[
                *_tfprod(),
                "explainer",
                "--policies",
                str(workdir / "policies"),
                "--models-dir",
                str(workdir / "explain-models"),
                "--host",
                options.host,
                "--port",
                str(port),
            ],
            ready_url=f"{url}/metrics",
            log=workdir / "logs" / "explainer.log",
        )
    )
    return url


def _start_alertmanager(
    policies: Sequence[Policy], options: PlatformOptions, group: ProcessGroup
) -> RunningAlertmanager | None:
    """Alertmanager for the alert routes; None (events printed) without routes, or when a
    Secret they need has no local value (one log line says which and where to put it)."""
    try:
        return start_alertmanager(policies, options.workdir, group, options.alertmanager)
    except LocalSecretError as error:
        _log.warning("no local Alertmanager, controller events are printed instead: %s", error)
        return None


def _start_controller(
    options: PlatformOptions,
    group: ProcessGroup,
    *,
    gateway_url: str,
    alertmanager: RunningAlertmanager | None,
) -> str:
    """Starts `tfprod controller` on the gateway's `/metrics` and the status files; returns
    its API's URL once it answers."""
    workdir = options.workdir.resolve()
    port = options.controller_port or free_port(options.host)
    url = f"http://{options.host}:{port}"
    notify = [] if alertmanager is None else ["--alertmanager-url", alertmanager.url]
    group.start(
        ServiceSpec(
            name="controller",
            argv=[
                *_tfprod(),
                "controller",
                "--policies",
                str(workdir / "policies"),
                "--admin-token-file",
                str(workdir / ADMIN_TOKEN_FILE),
                "--gateway",
                gateway_url,
                *_status_flags(workdir),
                *notify,
                "--host",
                options.host,
                "--port",
                str(port),
            ],
            ready_url=f"{url}{HEALTH_PATH}",
            log=workdir / "logs" / "controller.log",
        )
    )
    return url


def _start_model_server(
    policy: Policy, version_id: str, artifact: str, options: PlatformOptions, group: ProcessGroup
) -> str:
    registry_root, model, version = split_artifact_uri(artifact)
    base = options.workdir.resolve() / "models" / policy.name / version_id
    Registry.open(registry_root).pull(model, version, base)
    port = free_port(options.host)
    url = f"http://{options.host}:{port}"
    group.start(
        ServiceSpec(
            name=f"{policy.name}/{version_id}",
            argv=[
                *_tfprod(),
                "serve",
                "--model_name",
                policy.model,
                "--model_base_path",
                str(base / model),
                "--host",
                options.host,
                "--rest_api_port",
                str(port),
                "--port",
                "0",
                *(["--enable_fault_injection"] if options.fault_injection else []),
            ],
            ready_url=f"{url}/v1/models/{policy.model}",
            log=options.workdir.resolve() / "logs" / f"{policy.name}-{version_id}.log",
        )
    )
    return url


def _status_flags(workdir: Path) -> list[str]:
    """Where the gateway follows (and its admin API writes) each deployment's live weights."""
    return ["--status-dir", str(workdir / "status")]


@functools.cache
def _tfprod() -> list[str]:
    """The command that runs `tfprod` with this interpreter, whatever PATH holds."""
    return [sys.executable, "-m", "tfprod"]
