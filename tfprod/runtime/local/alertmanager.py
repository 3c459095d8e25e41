"""A real Alertmanager for the local platform, routing as the synthesized stack routes.

`start_alertmanager` renders the deployments' alert routes with the renderer the constructs
use (`tfprod.policy.alertmanager_config`, native file form), writes it under
`<workdir>/alertmanager/`, and runs Debian's `prometheus-alertmanager` on loopback, with the
empty `--cluster.listen-address=` (otherwise it also binds 0.0.0.0:9094 for gossip).

Secrets. A Policy names Secrets (`SecretRef(name, key)`), never values. Locally the value of
`SecretRef(name, key)` is, first found:

1. the environment variable `TFPROD_SECRET_<NAME>_<KEY>`, upper-cased, every character other
   than a letter or digit written `_` (tfprod-alerts/slack-webhook-url:
   `TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL`);
2. the file `<workdir>/secrets/<name>/<key>`, laid out as the Prometheus operator mounts
   Secrets.

Each is copied into `<workdir>/alertmanager/secrets/<name>/<key>` (mode 0600, directory 0700),
which the configuration references with `*_file` fields: the configuration file (0600 too)
holds no secret, and nothing here logs or prints one. Without `email` settings, e-mail
destinations are left out locally (one log line says so): there is no relay to send through.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tfprod.policy import AlertRoutes, Policy, SecretRef
from tfprod.policy.alertmanager_config import (
    DEFAULT_GROUPING,
    EmailSettings,
    Grouping,
    alertmanager_config,
)
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.local.private_files import write_private
from tfprod.runtime.local.processes import ProcessGroup, ServiceSpec

ALERTMANAGER: Final = "/usr/bin/prometheus-alertmanager"
"""Debian package prometheus-alertmanager (scripts/install-system-deps.sh installs it)."""
SERVICE_NAME: Final = "alertmanager"
SECRET_ENV_PREFIX: Final = "TFPROD_SECRET_"

log = logging.getLogger(__name__)


class LocalSecretError(LookupError):
    """A Secret the alert routes need has no value locally; the message says where to put it."""


@dataclass(frozen=True, kw_only=True)
class AlertmanagerOptions:
    """How the local Alertmanager runs and delivers."""

    email: EmailSettings | None = None
    """SMTP relay and sender. Default: none, e-mail destinations are left out."""
    pagerduty_url: str | None = None
    """PagerDuty Events API v2 endpoint. Default: PagerDuty's own."""
    grouping: Grouping = DEFAULT_GROUPING
    """Group wait, group and repeat intervals. Default: the stack's (30s, 5m, 4h)."""
    host: str = "127.0.0.1"
    port: int = 0
    """Port of the API and UI. Default: 0, a free one."""
    binary: str = ALERTMANAGER


DEFAULT_OPTIONS: Final = AlertmanagerOptions()


@dataclass(frozen=True, kw_only=True)
class RunningAlertmanager:
    """What `start_alertmanager` started: where to post alerts (`url` + /api/v2/alerts)."""

    url: str
    config_file: Path


def alert_routes(policies: Sequence[Policy]) -> dict[str, AlertRoutes]:
    """Each deployment's alert routes, for the deployments that declare some."""
    routes: dict[str, AlertRoutes] = {}
    for policy in policies:
        if policy.monitor is None or policy.monitor.alerts is None:
            continue
        if policy.name in routes:
            raise ValueError(
                f"two deployments are named {policy.name!r}; one Alertmanager routes by"
                " deployment name, so names must differ"
            )
        routes[policy.name] = policy.monitor.alerts
    return routes


def start_alertmanager(
    policies: Sequence[Policy],
    workdir: Path,
    group: ProcessGroup,
    options: AlertmanagerOptions = DEFAULT_OPTIONS,
    *,
    environ: Mapping[str, str] | None = None,
) -> RunningAlertmanager | None:
    """Starts Alertmanager in `group` for `policies`' alert routes; None when none declare any.

    Returns once Alertmanager reports ready. `environ` (default: this process's) is where
    `TFPROD_SECRET_*` values are looked up.
    """
    routes = alert_routes(policies)
    if not routes:
        return None
    config_file = write_config(routes, workdir.resolve(), options, environ=environ)
    return run_alertmanager(config_file, workdir, group, options)


def run_alertmanager(
    config_file: Path,
    workdir: Path,
    group: ProcessGroup,
    options: AlertmanagerOptions = DEFAULT_OPTIONS,
) -> RunningAlertmanager:
    """Runs Alertmanager in `group` on `config_file`, its data under the file's directory."""
    workdir = workdir.resolve()
    data = config_file.parent / "data"
    data.mkdir(exist_ok=True)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    port = options.port or free_port(options.host)
    url = f"http://{options.host}:{port}"
    group.start(
        ServiceSpec(
            name=SERVICE_NAME,
            argv=[
                options.binary,
                f"--config.file={config_file}",
                f"--storage.path={data}",
                f"--web.listen-address={options.host}:{port}",
                "--cluster.listen-address=",
                f"--web.external-url={url}",
            ],
            ready_url=f"{url}/-/ready",
            log=workdir / "logs" / "alertmanager.log",
        )
    )
    return RunningAlertmanager(url=url, config_file=config_file)


def write_config(
    routes: Mapping[str, AlertRoutes],
    workdir: Path,
    options: AlertmanagerOptions = DEFAULT_OPTIONS,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Writes `<workdir>/alertmanager/alertmanager.yml` and the secrets it references.

    The file is JSON, which is YAML, so the runtime needs no YAML library.
    """
    home = workdir / "alertmanager"
    secrets_dir = home / "secrets"
    home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(secrets_dir, ignore_errors=True)  # only what this configuration reads
    secrets_dir.mkdir(mode=0o700)
    if options.email is None:
        mailing = sorted(name for name, found in routes.items() if found.emails)
        if mailing:
            log.warning(
                "no e-mail settings given: e-mail alerts of %s are not sent locally",
                ", ".join(mailing),
            )
        routes = {name: found.model_copy(update={"emails": ()}) for name, found in routes.items()}
    config = alertmanager_config(
        routes,
        email=options.email,
        secrets_dir=str(secrets_dir),
        grouping=options.grouping,
        pagerduty_url=options.pagerduty_url,
    )
    environ = os.environ if environ is None else environ
    for path in (Path(one) for one in _files(config)):
        if path.is_relative_to(secrets_dir):
            relative = path.relative_to(secrets_dir)
            secret = SecretRef(name=relative.parent.as_posix(), key=relative.name)
            write_private(path, resolve_secret(secret, workdir, environ))
    config_file = home / "alertmanager.yml"
    write_private(config_file, json.dumps(config, indent=2))
    return config_file


def secret_env_name(secret: SecretRef) -> str:
    """The environment variable holding `secret` locally."""
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", f"{secret.name}_{secret.key}".upper())


def resolve_secret(secret: SecretRef, workdir: Path, environ: Mapping[str, str]) -> str:
    """The local value of `secret` (see the module's docstring for where it is looked up)."""
    variable = secret_env_name(secret)
    if variable in environ:
        return environ[variable]
    path = workdir / "secrets" / secret.name / secret.key
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    raise LocalSecretError(
        f"secret {secret.name}/{secret.key} is needed by the alert routes but not set:"
        f" set {variable} or write it to {path}"
    )


def _files(config: Any) -> Iterator[str]:
    """Every `*_file` value in the rendered configuration (the secrets it reads are some)."""
    if isinstance(config, Mapping):
        for name, value in config.items():
            if name.endswith("_file") and isinstance(value, str):
                yield value
            else:
                yield from _files(value)
    elif isinstance(config, list):
        for item in config:
            yield from _files(item)
