"""`tfprod up [STACK]`: run a synthesized stack's deployments on this machine."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError
from tfprod.cli._project import add_output_argument, project_output

if TYPE_CHECKING:
    from tfprod.policy import Policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run a synthesized stack on this machine: model servers, gateway, controller",
        description=(
            "Reads the policies that synthesis wrote next to STACK in the output directory,"
            " pulls every version from its registry, starts a model server per version, the"
            " gateway, the controller (and Alertmanager when the stack declares alert"
            " routes), prints their URLs, and runs until Ctrl-C, which stops"
            " everything it started. A process that exits meanwhile is restarted with"
            " backoff (1 s doubling to 30 s, reset after 60 s up); the others keep serving."
        ),
    )
    parser.add_argument("stack", nargs="?", help="stack name (default: the only one)")
    add_output_argument(parser, "--outdir")
    parser.add_argument(
        "--port", type=int, default=8080, help="gateway port; 0 picks a free one (default 8080)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(".tfprod/up"),
        help="pulled models, configuration and logs (default .tfprod/up)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from tfprod.policy import PolicyError
    from tfprod.runtime.local import stack_policies, stack_profiles

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be in [0, 65535], got {args.port}")
    try:
        policies = stack_policies(project_output(args.output), args.stack)
        profiles = stack_profiles(project_output(args.output), args.stack)
    except PolicyError as error:
        raise UsageError(str(error)) from None
    return _run_platform(policies, args, profiles=profiles)


def _run_platform(
    policies: list[Policy], args: argparse.Namespace, *, profiles: dict[str, str]
) -> int:
    """Runs the platform until Ctrl-C (or SIGTERM); restarts of its processes are logged."""
    from tfprod.policy import PolicyError
    from tfprod.runtime.local import (
        LocalPlatform,
        PlatformOptions,
        PortInUseError,
        StartError,
        WorkdirInUseError,
    )
    from tfprod.runtime.registry import RegistryError

    logging.basicConfig(level=logging.INFO, format="tfprod up: %(message)s")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    options = PlatformOptions(workdir=args.workdir, gateway_port=args.port)
    try:
        with LocalPlatform(policies, options, profiles=profiles) as platform:
            print(f"gateway: {platform.gateway_url}", flush=True)
            print(f"admin token file: {platform.admin_token_file}", flush=True)
            print(f"processes: {platform.report_url}/v1/processes", flush=True)
            print(f"controller: {platform.controller_url}", flush=True)
            print(
                f"dashboard: {platform.controller_url}/dashboard/"
                " (paste the admin token file's token into the page)",
                flush=True,
            )
            if platform.alertmanager_url is not None:
                print(f"alertmanager: {platform.alertmanager_url}", flush=True)
            if platform.explainer_url is not None:
                print(f"explainer: {platform.explainer_url}", flush=True)
            print("press Ctrl-C to stop", flush=True)
            while True:
                time.sleep(1.0)
    except (PolicyError, PortInUseError, WorkdirInUseError) as error:
        raise UsageError(str(error)) from None
    except (RegistryError, StartError) as error:
        # Not the user's input: a version could not be pulled or a process did not start.
        print(f"tfprod up: {error}", file=sys.stderr)
        return 1


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
