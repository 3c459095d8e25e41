"""`tfprod up`: every deployment's Policy run on one machine, as a cluster would run it.

Each version of each deployment is pulled from its registry (checksums verified) and served by
its own `tfprod serve` process, as a cluster runs one Deployment per version; one gateway
process routes between them with the Policy's weights, shadows, sticky key, fallback and
capture rate. The gateway reads the same files as in a cluster: each deployment's policy and
endpoints, laid out as the cluster mounts their ConfigMaps. Live weights live in each
deployment's status file under `<workdir>/status` (the cluster's status ConfigMap), which the
gateway follows and its admin API writes; it survives restarts of the gateway and of `tfprod
up`, and a status naming other versions than the policy's is ignored. The admin token is a
fresh random secret in a 0600 file under the work directory, never printed or passed on a
command line.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tfprod.policy import CONFIGMAP_KEY, ENDPOINTS_KEY, Policy, policy_json, split_artifact_uri
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.local.processes import ProcessGroup, ServiceSpec
from tfprod.runtime.registry import Registry


@dataclass(frozen=True, kw_only=True)
class PlatformOptions:
    """Where and how the local platform runs.

    `workdir` holds pulled models, generated configuration, the admin token and one log per
    process. `gateway_port` 0 picks a free port. `host` is where every process binds."""

    workdir: Path
    gateway_port: int = 8080
    host: str = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class RunningPlatform:
    """What `start_platform` started: the URL to call and the admin token's file."""

    gateway_url: str
    admin_token_file: Path


def start_platform(
    policies: Sequence[Policy], options: PlatformOptions, group: ProcessGroup
) -> RunningPlatform:
    """Pulls every version, starts its model server and then the gateway, in `group`.

    Returns once the gateway answers; stopping `group` stops everything started here."""
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
        (directory / ENDPOINTS_KEY).write_text(json.dumps(endpoints, indent=2), encoding="utf-8")
    token_file = _write_admin_token(workdir)
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
                *_status_flags(workdir),
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
    return RunningPlatform(gateway_url=gateway_url, admin_token_file=token_file)


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
            ],
            ready_url=f"{url}/v1/models/{policy.model}",
            log=options.workdir.resolve() / "logs" / f"{policy.name}-{version_id}.log",
        )
    )
    return url


def _status_flags(workdir: Path) -> list[str]:
    """Where the gateway follows (and its admin API writes) each deployment's live weights."""
    return ["--status-dir", str(workdir / "status")]


def _write_admin_token(workdir: Path) -> Path:
    token_file = workdir / "admin-token"
    token_file.unlink(missing_ok=True)
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32))
    return token_file


def _tfprod() -> list[str]:
    """The command that runs `tfprod` with this interpreter, whatever PATH holds."""
    return [sys.executable, "-m", "tfprod"]
