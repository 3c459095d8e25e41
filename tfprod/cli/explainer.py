"""`tfprod explainer`: explanations of the deployments that declare a ModelDebugger."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from tfprod.cli._app import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explainer",
        help="explain predictions (LIME, SHAP, integrated gradients) off the request path",
        description=(
            "Pulls every version of each mounted deployment with a debugger section from its"
            " registry, loads its SavedModel and serves POST /v1/models/NAME:explain, GET"
            " /v1/models/NAME/explanations and the gateway's captured samples (POST"
            " /v1/captures) until SIGTERM or SIGINT. Needs the `explain` extra."
        ),
    )
    parser.add_argument(
        "--policies",
        type=Path,
        required=True,
        help="directory of <deployment>/policy.json, as mounted from the policy ConfigMaps",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        required=True,
        help="where versions are pulled to (<dir>/<deployment>/<version id>/)",
    )
    parser.add_argument("--port", required=True, type=int, help="port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--queue-size",
        type=int,
        default=100,
        help="captured samples waiting to be explained; more are dropped and counted (default 100)",
    )
    parser.add_argument(
        "--results",
        type=int,
        default=100,
        help="explanations kept per deployment for GET .../explanations (default 100)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tfprod.policy import PolicyError
    from tfprod.runtime.explain.deployments import load_deployments
    from tfprod.runtime.explain.model import ModelShapeError
    from tfprod.runtime.explain.server import run_explainer
    from tfprod.runtime.explain.service import ExplainerService
    from tfprod.runtime.gateway.drift import mounted_policies
    from tfprod.runtime.registry import RegistryError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be in [0, 65535], got {args.port}")
    for flag, value in (("--queue-size", args.queue_size), ("--results", args.results)):
        if value < 1:
            raise UsageError(f"{flag}: must be at least 1, got {value}")
    if not args.policies.is_dir():
        raise UsageError(f"--policies: {args.policies} is not a directory")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        deployments = load_deployments(mounted_policies(args.policies), args.models_dir)
    except (PolicyError, ModelShapeError) as error:
        raise UsageError(str(error)) from None
    except RegistryError as error:
        print(f"tfprod explainer: {error}", file=sys.stderr)
        return 1
    if not deployments:
        logging.getLogger(__name__).warning(
            "no mounted deployment has a debugger section: nothing to explain"
        )
    service = ExplainerService(deployments, queue_size=args.queue_size, results=args.results)
    try:
        asyncio.run(run_explainer(service, host=args.host, port=args.port))
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    return 0
