"""`tfprod controller`: ramps, decides and rolls back every deployment's rollout, and its API.

The command line the stacks run (`RuntimeController`): `--policies DIR --namespace NS
--prometheus-url URL --admin-token-file F --host H --port P`: observe through Prometheus,
persist in the status ConfigMaps of NS, lead through the Lease `tfprod-controller` there.
What the local platform adds: `--gateway URL` (repeatable; observe every gateway replica's
`/metrics` directly instead of Prometheus), `--status-dir DIR` (the status files the gateway
follows instead of ConfigMaps; no Lease), `--alertmanager-url URL` (post events there
instead of printing them).
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tfprod.cli._app import UsageError

if TYPE_CHECKING:
    from tfprod.policy import Policy
    from tfprod.runtime.controller.process import ControllerOptions


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "controller",
        help="run the controller: canary ramps, A/B decisions, safety triggers, rollbacks",
        description=(
            "Runs every deployment's rollout until SIGTERM or SIGINT: observes the gateways,"
            " decides, writes each deployment's status document (which every gateway"
            " follows) and posts events to Alertmanager (or prints them). Serves the"
            " controller API on --host/--port."
        ),
    )
    parser.add_argument(
        "--policies",
        required=True,
        type=Path,
        help="directory of <deployment>/policy.json, as mounted from the policy ConfigMaps",
    )
    parser.add_argument(
        "--admin-token-file", required=True, type=Path, help="file holding the API's token"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prometheus-url", help="observe through this Prometheus HTTP API")
    source.add_argument(
        "--gateway",
        action="append",
        metavar="URL",
        help="observe this gateway replica's /metrics directly (repeat for every replica)",
    )
    parser.add_argument(
        "--prometheus-job",
        default="tfprod-gateway",
        help="with --prometheus-url: the gateways' scrape job (default tfprod-gateway)",
    )
    store = parser.add_mutually_exclusive_group(required=True)
    store.add_argument(
        "--namespace",
        help="keep status in <deployment>-status ConfigMaps here; lead via its Lease",
    )
    store.add_argument(
        "--status-dir",
        type=Path,
        help="keep status in <dir>/<deployment>-status.json (one local controller, no Lease)",
    )
    parser.add_argument(
        "--kubernetes-api",
        help="with --namespace: API server URL (default: the pod's service account)",
    )
    parser.add_argument(
        "--kubernetes-token-file",
        type=Path,
        help="with --namespace and --kubernetes-api: bearer token file",
    )
    parser.add_argument(
        "--kubernetes-ca-file", help="with --kubernetes-api: CA bundle (default: the system's)"
    )
    parser.add_argument(
        "--identity",
        default=os.environ.get("POD_NAME") or socket.gethostname(),
        help="this controller's name in the Lease (default $POD_NAME, else the host name)",
    )
    parser.add_argument(
        "--alertmanager-url", help="post events to this Alertmanager (default: print them)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="API port (default 8090)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import logging

    from tfprod.runtime.controller.process import serve_controller

    options = _options(args)
    logging.basicConfig(level=logging.INFO, format="tfprod controller: %(message)s")
    # The kubernetes package's elector logs every Lease renewal (one line each retry period,
    # for as long as the controller leads); `tfprod.runtime.kube.election` logs the changes.
    logging.getLogger("leaderelection").setLevel(logging.WARNING)
    try:
        serve_controller(options)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    return 0


def _options(args: argparse.Namespace) -> ControllerOptions:
    from tfprod.runtime.controller.process import ControllerOptions, KubernetesAccess

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be in [0, 65535], got {args.port}")
    for flag, url in (
        ("--prometheus-url", args.prometheus_url),
        ("--alertmanager-url", args.alertmanager_url),
        ("--kubernetes-api", args.kubernetes_api),
        *(("--gateway", gateway) for gateway in args.gateway or ()),
    ):
        _check_url(flag, url)
    if args.status_dir is not None:
        given = [
            flag
            for flag, value in (
                ("--kubernetes-api", args.kubernetes_api),
                ("--kubernetes-token-file", args.kubernetes_token_file),
                ("--kubernetes-ca-file", args.kubernetes_ca_file),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{given[0]} goes with --namespace, not --status-dir")
    if (args.kubernetes_api is None) != (args.kubernetes_token_file is None):
        raise UsageError("--kubernetes-api and --kubernetes-token-file go together")
    policies = _policies(args.policies)
    return ControllerOptions(
        policies=policies,
        admin_token=_read_secret(args.admin_token_file, "--admin-token-file"),
        host=args.host,
        port=args.port,
        gateways=tuple(args.gateway or ()),
        prometheus_url=args.prometheus_url,
        prometheus_job=args.prometheus_job,
        status_dir=args.status_dir,
        namespace=args.namespace,
        kubernetes=KubernetesAccess(
            url=args.kubernetes_api,
            token=(
                None
                if args.kubernetes_token_file is None
                else _read_secret(args.kubernetes_token_file, "--kubernetes-token-file")
            ),
            ca_file=args.kubernetes_ca_file,
        ),
        identity=args.identity,
        alertmanager_url=args.alertmanager_url,
    )


def _policies(directory: Path) -> dict[str, Policy]:
    """Every `<deployment>/policy.json` under `directory`, by deployment name."""
    from pydantic import ValidationError

    from tfprod.policy import CONFIGMAP_KEY, PolicyError, read_policy
    from tfprod.policy.problems import file_problem

    if not directory.is_dir():
        raise UsageError(f"--policies: {directory} is not a directory")
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob(f"*/{CONFIGMAP_KEY}")):
        try:
            policy = read_policy(path)
        except PolicyError as error:
            raise UsageError(f"--policies: {error}") from None
        except ValidationError as error:
            raise UsageError(f"--policies: {file_problem(path, error)}") from None
        policies[policy.name] = policy
    if not policies:
        raise UsageError(f"--policies: no <deployment>/{CONFIGMAP_KEY} under {directory}")
    return policies


def _read_secret(path: Path, flag: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UsageError(f"{flag}: cannot read {path}: {error.strerror}") from None
    if not value:
        raise UsageError(f"{flag}: {path} is empty")
    return value


def _check_url(flag: str, url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{flag}: {url!r} is not an http(s) URL, e.g. http://127.0.0.1:9090")
