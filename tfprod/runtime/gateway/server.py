"""Running the gateway until SIGTERM or SIGINT, then shutting down gracefully.

With `admin_port` the admin API and /metrics listen on a port of their own and the public port
serves only TF Serving's API and feedback; without it (the default) one port serves all.

On a signal the gateway stops accepting connections, lets in-flight requests finish (up to
`drain_seconds`), gives running shadow mirrors their timeout, then closes upstream connections.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from tfprod.runtime.gateway.app import Gateway
from tfprod.runtime.gateway.config import GatewayConfig
from tfprod.runtime.gateway.drift import DriftMonitors
from tfprod.runtime.gateway.follow import Following

_log = logging.getLogger(__name__)


async def run_gateway(
    config: GatewayConfig,
    *,
    host: str,
    port: int,
    admin_port: int | None = None,
    drain_seconds: float = 30.0,
    feedback_key: bytes | None = None,
    advertise_url: str | None = None,
    following: Following | None = None,
    drift: DriftMonitors | None = None,
) -> None:
    """Serves until SIGTERM/SIGINT; logs one `listening` line per port once bound. `feedback_key`
    signs request ids (None: a random key of this process, see `Gateway`); `advertise_url` is
    the replica's base URL for its peers, named in its ids (see `Gateway`). With `following`,
    the status documents are read before the port opens, so the first request already gets
    the live weights. `drift`: the drift monitors (see the drift module), default none."""
    gateway = Gateway(
        config,
        admin_token=config.admin_token(),
        feedback_key=feedback_key,
        advertise_url=advertise_url,
        following=following,
        drift=drift,
    )
    split = admin_port is not None
    runner = web.AppRunner(
        gateway.build_app(with_admin=not split), access_log=None, shutdown_timeout=drain_seconds
    )
    await runner.setup()
    admin_runner = web.AppRunner(gateway.build_admin_app(), access_log=None) if split else None
    if admin_runner is not None:
        await admin_runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port, backlog=1024)
        await site.start()
        _log.info("tfprod gateway listening on http://%s:%d", host, port)
        if admin_runner is not None:
            await web.TCPSite(admin_runner, host, admin_port).start()
            _log.info("tfprod gateway admin API and /metrics on http://%s:%d", host, admin_port)
        if feedback_key is None:
            _log.warning(
                "no --feedback-key-file: request ids are signed with a random key of this"
                " process, so feedback matches only the ids this replica issued"
            )
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
        if admin_runner is not None:
            await admin_runner.cleanup()


def serve(
    config: GatewayConfig,
    *,
    host: str,
    port: int,
    admin_port: int | None = None,
    drain_seconds: float = 30.0,
    feedback_key: bytes | None = None,
    advertise_url: str | None = None,
    following: Following | None = None,
    drift: DriftMonitors | None = None,
) -> None:
    """Runs the gateway on uvloop (when installed) until it is told to stop."""
    running = run_gateway(
        config,
        host=host,
        port=port,
        admin_port=admin_port,
        drain_seconds=drain_seconds,
        feedback_key=feedback_key,
        advertise_url=advertise_url,
        following=following,
        drift=drift,
    )
    try:
        import uvloop
    except ImportError:  # the runtime image has it; plain asyncio still works
        asyncio.run(running)
        return
    uvloop.run(running)
