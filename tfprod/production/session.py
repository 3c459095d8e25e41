"""The session: what this process declared, and where its runtime calls go.

By default calls run on the embedded platform (`embedded`), started in the background on the
first `deploy` and stopped at exit or `shutdown()`; its registry is `$TFPROD_HOME/registry`
(`home`). `connect(url, ...)` (or `$TFPROD_CONTROLLER_URL`, with `$TFPROD_GATEWAY_URL` and
`$TFPROD_CONTROLLER_TOKEN_FILE`) sends the runtime calls to a cluster's controller and gateway
instead; there the declared state belongs to Terraform, so declaring calls raise
`DeclaredByTerraformError` saying to change the stack (`export` writes one).
"""

from __future__ import annotations

import atexit
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.policy import ControllerSettings, Policy
from tfprod.production.declared import Declared
from tfprod.production.errors import DeclaredByTerraformError, ProductionError
from tfprod.production.home import registry_uri, session_dir

if TYPE_CHECKING:
    from tfprod.production.embedded import EmbeddedPlatform

CONTROLLER_VARIABLE = "TFPROD_CONTROLLER_URL"
GATEWAY_VARIABLE = "TFPROD_GATEWAY_URL"
TOKEN_FILE_VARIABLE = "TFPROD_CONTROLLER_TOKEN_FILE"
DEFAULT_AB_MIN_SAMPLE_SIZE = 1000
_log = logging.getLogger("tfprod.production")


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """Where runtime calls go: the gateway, the controller API and its token."""

    gateway_url: str
    controller_url: str
    token: str | None


class Session:
    """One process's declarations and platform."""

    def __init__(self) -> None:
        self.registry_uri = registry_uri()
        self.deployments: dict[str, Declared] = {}
        self.last: Declared | None = None
        self.controller = ControllerSettings()
        self.ab_min_sample_size = DEFAULT_AB_MIN_SAMPLE_SIZE
        self.cluster: Runtime | None = _cluster_from_environment()
        self.platform: EmbeddedPlatform | None = None
        self.autostart = True

    def registry(self) -> Any:
        from tfprod.runtime.registry import Registry

        return Registry.open(self.registry_uri)

    def declaring(self, call: str) -> None:
        """Refuses a declaring call while connected to a cluster."""
        if self.cluster is not None:
            raise DeclaredByTerraformError(
                f"{call}: connected to the cluster at {self.cluster.controller_url}, where what is"
                " declared belongs to Terraform; declare it in the stack instead (production."
                "export(path) writes this session's declarations as one), review it and run"
                " cdktf deploy"
            )

    def policies(self) -> list[Policy]:
        return [declared.policy() for declared in self.deployments.values()]

    def declared(self, declared: Declared) -> None:
        """Records a new deployment and starts (or schedules a restart of) the platform."""
        self.deployments[declared.name] = declared
        self.last = declared
        if self.platform is None and self.autostart:
            self._start()

    def _start(self) -> EmbeddedPlatform:
        from tfprod.production.embedded import EmbeddedPlatform

        platform = EmbeddedPlatform(session_dir())
        self.platform = platform
        atexit.register(shutdown)
        _log.info("starting the embedded platform in %s", platform.workdir)
        platform.apply(self.policies())
        return platform

    def runtime(self) -> Runtime:
        """The running platform (the embedded one restarted first if declarations changed)."""
        if self.cluster is not None:
            return self.cluster
        if not self.deployments:
            raise ProductionError(
                "nothing runs yet: call production.deploy(model=..., name=...) first, or"
                " production.connect(url) for a cluster"
            )
        platform = self.platform or self._start()
        platform.ready(self.policies())
        return Runtime(
            gateway_url=platform.gateway_url,
            controller_url=platform.controller_url,
            token=platform.token(),
        )

    def stop(self) -> None:
        if self.platform is not None:
            self.platform.stop()
            self.platform = None


_session: Session | None = None


def current() -> Session:
    """This process's session, created on first use."""
    global _session  # noqa: PLW0603 - one session per process, as a notebook has one
    if _session is None:
        _session = Session()
    return _session


def shutdown() -> None:
    """Stops the embedded platform and forgets the session's declarations."""
    global _session  # noqa: PLW0603
    if _session is not None:
        _session.stop()
    _session = None


def connect(url: str, *, gateway_url: str | None = None, token: str | None = None) -> None:
    """Sends runtime calls to a cluster: `url` is its controller API, `gateway_url` its gateway
    (default: the controller's host on port 8080), `token` the controller API's bearer token.
    Declaring calls then raise `DeclaredByTerraformError`."""
    if not url.startswith(("http://", "https://")):
        raise ProductionError(f"connect: url {url!r} is not an http(s) URL; allowed: http://...")
    shutdown()
    session = current()
    session.cluster = Runtime(
        gateway_url=(gateway_url or _default_gateway(url)).rstrip("/"),
        controller_url=url.rstrip("/"),
        token=token,
    )


def configure(
    *,
    controller: ControllerSettings | None = None,
    ab_min_sample_size: int | None = None,
    autostart: bool | None = None,
) -> None:
    """Session settings the proposal's calls leave out: the controller's cadence and evidence
    thresholds of every deployment declared from now on (default: `ControllerSettings()`),
    the samples each A/B variant needs before a decision when `ABTest` gives no
    `min_sample_size` (default: 1000), and whether the embedded platform starts at the first
    `deploy` (default: True) or only at the first runtime call (for a session that only
    declares and exports)."""
    session = current()
    if autostart is not None:
        session.autostart = autostart
    if controller is not None:
        session.controller = controller
    if ab_min_sample_size is not None:
        if isinstance(ab_min_sample_size, bool) or ab_min_sample_size < 1:
            raise ProductionError(
                f"configure: ab_min_sample_size {ab_min_sample_size!r} is below 1;"
                " allowed: a whole number from 1 up"
            )
        session.ab_min_sample_size = ab_min_sample_size


def _default_gateway(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    return f"{scheme}://{host}:8080"


def _cluster_from_environment() -> Runtime | None:
    url = os.environ.get(CONTROLLER_VARIABLE)
    if not url:
        return None
    token_file = os.environ.get(TOKEN_FILE_VARIABLE)
    token = Path(token_file).read_text(encoding="utf-8").strip() if token_file else None
    return Runtime(
        gateway_url=os.environ.get(GATEWAY_VARIABLE, _default_gateway(url)).rstrip("/"),
        controller_url=url.rstrip("/"),
        token=token,
    )
