"""`tfprod up [STACK]`: run a synthesized stack's deployments on this machine."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from tfprod.cli._app import UsageError
from tfprod.cli._project import add_output_argument, project_output


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run a synthesized stack on this machine: model servers and gateway",
        description=(
            "Reads the policies that synthesis wrote next to STACK in the output directory,"
            " pulls every version from its registry, starts a model server per version and"
            " the gateway, prints the gateway URL, and runs until Ctrl-C, which stops"
            " everything it started."
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
    from tfprod.runtime.local.platform import PlatformOptions, start_platform
    from tfprod.runtime.local.processes import ProcessGroup, StartError
    from tfprod.runtime.local.synthesized import stack_policies
    from tfprod.runtime.registry import RegistryError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be in [0, 65535], got {args.port}")
    try:
        policies = stack_policies(project_output(args.output), args.stack)
    except PolicyError as error:
        raise UsageError(str(error)) from None
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with ProcessGroup() as group:
        try:
            options = PlatformOptions(workdir=args.workdir, gateway_port=args.port)
            running = start_platform(policies, options, group)
        except PolicyError as error:
            raise UsageError(str(error)) from None
        except (RegistryError, StartError) as error:
            # Not the user's input: a version could not be pulled or a process did not start.
            print(f"tfprod up: {error}", file=sys.stderr)
            return 1
        print(f"gateway: {running.gateway_url}", flush=True)
        print(f"admin token file: {running.admin_token_file}", flush=True)
        print("press Ctrl-C to stop", flush=True)
        while all(service.process.poll() is None for service in group.services):
            time.sleep(0.5)
        stopped = [s.spec.name for s in group.services if s.process.poll() is not None]
        print(f"stopping: {', '.join(stopped)} exited", flush=True)
        return 1


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
