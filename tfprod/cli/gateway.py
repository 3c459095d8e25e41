"""`tfprod gateway`: the reverse proxy in front of model versions (TF Serving's REST API)."""

from __future__ import annotations

import argparse
import functools
import ipaddress
import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError

if TYPE_CHECKING:
    from tfprod.runtime.gateway.config import GatewayConfig
    from tfprod.runtime.gateway.drift import DriftMonitors
    from tfprod.runtime.gateway.follow import Following


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gateway",
        help="run the gateway: weighted/sticky routing, shadows, capture, feedback, metrics",
        description=(
            "Runs the gateway until SIGTERM or SIGINT, then drains in-flight requests."
            " The admin token comes from the environment variable or file the config names."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", type=Path, help="GatewayConfig as JSON")
    source.add_argument(
        "--policies",
        type=Path,
        help=(
            "directory of <deployment>/policy.json and endpoints.json, as mounted from the"
            " policy and endpoints ConfigMaps"
        ),
    )
    parser.add_argument(
        "--admin-token-file",
        help="with --policies: file holding the admin API token (default: admin API disabled)",
    )
    parser.add_argument(
        "--feedback-key-file",
        type=Path,
        help=(
            "file holding the key (at least 32 bytes) that signs request ids, mounted from a"
            " Secret and the same on every replica (default: a random key per process, so"
            " feedback then only matches ids that replica issued)"
        ),
    )
    parser.add_argument(
        "--advertise-address",
        help=(
            "address other gateway replicas reach this one at, on --port (in a cluster the pod"
            " IP): the ids it issues name it, so feedback reaching another replica is relayed"
            " here and counted once (default: none, each replica counts what reaches it)"
        ),
    )
    _register_following(parser)
    parser.add_argument("--port", required=True, type=int, help="port to listen on")
    parser.add_argument(
        "--admin-port",
        type=int,
        help=(
            "serve the admin API and /metrics on this port only, and only TF Serving's API and"
            " feedback on --port (default: one port serves all)"
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=30.0,
        help="how long shutdown waits for in-flight requests (default 30)",
    )
    parser.add_argument(
        "--explainer-url",
        help=(
            "http(s)://host:port of `tfprod explainer`: explain calls and captured exchanges"
            " go there (default: none, explain calls answer 404)"
        ),
    )
    parser.add_argument(
        "--drift-interval",
        type=float,
        default=10.0,
        help="seconds between drift checks of policies with a drift section (default 10)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tfprod.runtime.gateway.config import ConfigError
    from tfprod.runtime.gateway.server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be in [0, 65535], got {args.port}")
    if args.admin_port is not None and not (
        0 < args.admin_port <= 65535 and args.admin_port != args.port
    ):
        raise UsageError(
            f"--admin-port: must be in [1, 65535] and differ from --port, got {args.admin_port}"
        )
    if not args.drift_interval > 0:
        raise UsageError(f"--drift-interval: must be greater than 0, got {args.drift_interval}")
    advertise_url = _advertise_url(args)
    if args.config is not None and args.admin_token_file is not None:
        raise UsageError("--admin-token-file goes with --policies; a --config names its own")
    try:
        config = _config(args)
        config.admin_token()  # fail now, before binding, if the token source is missing
        feedback_key = _feedback_key(args.feedback_key_file)
        following = _following(args)
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        drift = _drift(args)
        serve(
            config,
            host=args.host,
            port=args.port,
            admin_port=args.admin_port,
            drain_seconds=args.drain_seconds,
            feedback_key=feedback_key,
            advertise_url=advertise_url,
            following=following,
            drift=drift,
        )
    except ConfigError as error:
        raise UsageError(f"{args.config}: {error}" if args.config else str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    return 0


def _advertise_url(args: argparse.Namespace) -> str | None:
    address = args.advertise_address
    if address is None:
        return None
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if args.port == 0 or not (ip is not None or re.fullmatch(r"[A-Za-z0-9.-]+", address)):
        raise UsageError(
            "--advertise-address: must be a host name or IP address (without port or scheme),"
            f" with a --port other than 0, got {address!r} with --port {args.port}"
        )
    host = f"[{address}]" if isinstance(ip, ipaddress.IPv6Address) else address
    return f"http://{host}:{args.port}"


def _config(args: argparse.Namespace) -> GatewayConfig:
    config = _read_config(args)
    url = args.explainer_url
    if url is None:
        return config
    if not url.startswith(("http://", "https://")) or url.endswith("/"):
        raise UsageError(
            f"--explainer-url: must be http(s)://host:port without a trailing slash, got {url!r}"
        )
    return replace(config, explainer_url=url)


def _read_config(args: argparse.Namespace) -> GatewayConfig:
    from tfprod.runtime.gateway.config import GatewayConfig
    from tfprod.runtime.gateway.policy_routes import config_from_mounted_policies

    if args.policies is not None:
        return config_from_mounted_policies(args.policies, admin_token_file=args.admin_token_file)
    try:
        document = json.loads(args.config.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"--config: cannot read {args.config}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"--config: {args.config} is not valid JSON: {error}") from None
    return GatewayConfig.from_dict(document)


def _drift(args: argparse.Namespace) -> DriftMonitors | None:
    """Drift monitors of the mounted policies with a drift section (profiles read now)."""
    from tfprod.runtime.drift import load_profile
    from tfprod.runtime.gateway.drift import monitors_for, mounted_policies

    if args.policies is None:
        return None
    return monitors_for(
        mounted_policies(args.policies),
        interval_seconds=args.drift_interval,
        read=functools.partial(load_profile, mounted=args.policies),
    )


def _feedback_key(path: Path | None) -> bytes | None:
    from tfprod.runtime.gateway.request_ids import FeedbackKeyError, read_key

    if path is None:
        return None
    try:
        return read_key(path)
    except FeedbackKeyError as error:
        raise UsageError(str(error)) from None


def _register_following(parser: argparse.ArgumentParser) -> None:
    """Flags for following live weights (status documents) and policy changes."""
    status = parser.add_mutually_exclusive_group()
    status.add_argument(
        "--status-dir",
        type=Path,
        help=(
            "with --policies: follow each deployment's status file <dir>/<deployment>-status.json"
            " (the admin API's weight changes are written there)"
        ),
    )
    status.add_argument(
        "--status-namespace",
        help=(
            "with --policies: follow each deployment's <deployment>-status ConfigMap in this"
            " namespace through the Kubernetes API (read only)"
        ),
    )
    parser.add_argument(
        "--status-poll-seconds",
        type=float,
        default=None,
        help="time between two looks at status and policy files (default 0.5)",
    )
    parser.add_argument(
        "--kubernetes-api",
        help=(
            "with --status-namespace: API server URL"
            " (default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)"
        ),
    )
    parser.add_argument(
        "--kubernetes-token-file",
        help="with --status-namespace: bearer token file (default: the service account's)",
    )
    parser.add_argument(
        "--kubernetes-ca-file",
        help="with --status-namespace: CA bundle for https (default: the service account's)",
    )


def _following(args: argparse.Namespace) -> Following | None:
    from tfprod.runtime.gateway.follow import DEFAULT_POLL_SECONDS, Following, KubernetesApi
    from tfprod.runtime.gateway.policy_routes import actuation_bounds

    if args.policies is None:
        flags = {
            "--status-dir": args.status_dir,
            "--status-namespace": args.status_namespace,
            "--status-poll-seconds": args.status_poll_seconds,
        }
        given = [flag for flag, value in flags.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} goes with --policies")
        return None
    poll = DEFAULT_POLL_SECONDS if args.status_poll_seconds is None else args.status_poll_seconds
    bounds = actuation_bounds(args.policies)
    tightest = min(bounds, key=lambda name: bounds[name])
    if not 0 < poll < bounds[tightest]:
        raise UsageError(
            f"--status-poll-seconds: must be above 0 and below the actuation bound of every"
            f" policy ({tightest}: {bounds[tightest]:g} s), got {poll:g}"
        )
    kubernetes = None
    if args.status_namespace is not None:
        kubernetes = KubernetesApi(
            url=args.kubernetes_api or _in_cluster_api(),
            namespace=args.status_namespace,
            **{
                key: value
                for key, value in (
                    ("token_file", args.kubernetes_token_file),
                    ("ca_file", args.kubernetes_ca_file),
                )
                if value is not None
            },
        )
    return Following(
        status_dir=args.status_dir,
        kubernetes=kubernetes,
        policies_dir=args.policies,
        poll_seconds=poll,
    )


def _in_cluster_api() -> str:
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise UsageError(
            "--kubernetes-api: not given and KUBERNETES_SERVICE_HOST is not set (not in a pod)"
        )
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
