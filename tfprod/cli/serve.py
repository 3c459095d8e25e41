"""`tfprod serve`: a stand-in for `tensorflow_model_server`, with its flag names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError

if TYPE_CHECKING:
    from tfprod.runtime.serving import FaultPlan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve SavedModels over TF Serving's REST and gRPC APIs",
        description=(
            "Serves SavedModel versions (numeric subdirectories of a base path) over TF "
            "Serving's REST and gRPC APIs. Give --model_name and --model_base_path for one "
            "model, or --model_config_file for several. Prints one line when ready; stops "
            "cleanly on SIGTERM or SIGINT."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=8500, help="gRPC port; 0 disables gRPC (default 8500)"
    )
    parser.add_argument(
        "--rest_api_port",
        type=int,
        default=0,
        help="REST port; 0 disables REST (default 0, as tensorflow_model_server)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--model_name", default="default", help="name of the single model (default 'default')"
    )
    parser.add_argument(
        "--model_base_path",
        default="",
        help="directory holding the model's numeric version subdirectories",
    )
    parser.add_argument(
        "--model_config_file",
        default="",
        help="text-format ModelServerConfig listing several models",
    )
    parser.add_argument(
        "--max_request_bytes",
        type=int,
        default=16 * 1024 * 1024,
        help="largest accepted request body (default 16 MiB); larger gets 413",
    )
    parser.add_argument(
        "--file_system_poll_wait_seconds",
        type=float,
        default=1.0,
        help="seconds between scans of the base paths for new versions; 0 scans once (default 1)",
    )
    _register_fault_flags(parser)
    parser.set_defaults(handler=_serve)


def _register_fault_flags(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "fault injection (tests, demo and benchmarks; loopback --host only; off by default)"
    )
    faults.add_argument(
        "--enable_fault_injection",
        action="store_true",
        help="serve /metrics and the loopback-only /admin/v1/faults API (implied by --fault_*)",
    )
    faults.add_argument(
        "--fault_error_share",
        type=float,
        default=0.0,
        help="share of inference requests answered 500, every 1/share-th one (default 0)",
    )
    faults.add_argument(
        "--fault_latency_ms",
        type=float,
        default=0.0,
        help="milliseconds added to every inference request (default 0)",
    )
    faults.add_argument(
        "--fault_exit_after_requests",
        type=int,
        default=0,
        help="exit with code 70 after answering this many inference requests (default 0: never)",
    )


def _fault_plan(args: argparse.Namespace) -> FaultPlan | None:
    """The plan the fault flags ask for, or None when fault injection stays off."""
    from tfprod.runtime.serving import FaultPlan, FaultPlanError

    try:
        plan = FaultPlan(
            error_share=args.fault_error_share,
            latency_ms=args.fault_latency_ms,
            exit_after_requests=args.fault_exit_after_requests,
        )
    except FaultPlanError as error:
        raise UsageError(f"--fault_{error}") from None
    if args.enable_fault_injection or plan != FaultPlan():
        return plan
    return None


def _serve(args: argparse.Namespace) -> int:
    from tfprod.runtime.serving import (
        ModelConfig,
        ServerConfig,
        ServingConfigError,
        parse_model_config_text,
        serve,
    )

    try:
        if args.model_config_file:
            if args.model_base_path:
                raise UsageError("give either --model_config_file or --model_base_path, not both")
            path = Path(args.model_config_file)
            try:
                text = path.read_text()
            except OSError as error:
                raise UsageError(
                    f"--model_config_file {str(path)!r} cannot be read: {error.strerror}"
                ) from None
            models = parse_model_config_text(text, source=str(path))
        elif args.model_base_path:
            models = (ModelConfig(name=args.model_name, base_path=Path(args.model_base_path)),)
        else:
            raise UsageError("give --model_base_path (one model) or --model_config_file")
        config = ServerConfig(
            models=models,
            host=args.host,
            port=args.port,
            rest_api_port=args.rest_api_port,
            max_request_bytes=args.max_request_bytes,
            file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
            faults=_fault_plan(args),
        )
        serve(config, on_ready=lambda endpoints: print(endpoints.describe(), flush=True))
    except ServingConfigError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}: {error.strerror or error}") from None
    return 0
