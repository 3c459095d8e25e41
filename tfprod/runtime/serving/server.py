"""Runs the REST and gRPC endpoints on one asyncio (uvloop) event loop.

`serve(config)` is what `tfprod serve` runs in the foreground until SIGTERM/SIGINT.
`start_model_server(config)` runs the same server on a background thread of the calling
process and returns a handle (used by tests, benchmarks and in-process gateways); the local
platform instead launches `tfprod serve` subprocesses.

Inference runs on the event loop thread: for the small models this serves, a hop to a thread
pool costs more than the model (see bench/serve.py), and TensorFlow's own intra-op pool still
parallelises each call.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from tfprod.runtime.serving.config import ServerConfig
from tfprod.runtime.serving.models import ModelManager, load_models

_STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class Endpoints:
    rest_url: str | None
    """Base URL of the REST API (e.g. http://127.0.0.1:8501), None when disabled."""
    grpc_target: str | None
    """host:port of the gRPC API, None when disabled."""

    def describe(self) -> str:
        parts = []
        if self.rest_url:
            parts.append(f"REST on {self.rest_url}")
        if self.grpc_target:
            parts.append(f"gRPC on {self.grpc_target}")
        return "serving " + ", ".join(parts)


class _Running:
    """Both endpoints, started and stopped on the current event loop."""

    def __init__(self, config: ServerConfig, manager: ModelManager) -> None:
        self._config = config
        self._manager = manager
        self._runner: object | None = None
        self._grpc: object | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> Endpoints:
        from aiohttp import web

        from tfprod.runtime.serving.faults import FaultInjector
        from tfprod.runtime.serving.rest import make_app

        config = self._config
        rest_url = grpc_target = None
        if config.rest_api_port:
            faults = None if config.faults is None else FaultInjector(config.faults)
            app = make_app(self._manager, max_request_bytes=config.max_request_bytes, faults=faults)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            self._runner = runner
            await web.TCPSite(runner, config.host, config.rest_api_port).start()
            rest_url = f"http://{config.host}:{config.rest_api_port}"
        if config.port:
            import grpc

            from tfprod.runtime.serving.grpc_service import add_services

            server = grpc.aio.server(
                options=[
                    ("grpc.max_receive_message_length", config.max_request_bytes),
                    ("grpc.so_reuseport", 0),
                ]
            )
            add_services(server, self._manager)
            server.add_insecure_port(f"{config.host}:{config.port}")
            await server.start()
            self._grpc = server
            grpc_target = f"{config.host}:{config.port}"
        if config.file_system_poll_wait_seconds > 0:
            self._poller = asyncio.create_task(self._poll(config.file_system_poll_wait_seconds))
        return Endpoints(rest_url=rest_url, grpc_target=grpc_target)

    async def _poll(self, interval: float) -> None:
        """Rescans on a worker thread, so loading a new version never stalls requests."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            await loop.run_in_executor(None, self._manager.refresh)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self._grpc is not None:
            await self._grpc.stop(_STOP_GRACE_SECONDS)  # type: ignore[attr-defined]
        if self._runner is not None:
            await self._runner.cleanup()  # type: ignore[attr-defined]


def _new_loop() -> asyncio.AbstractEventLoop:
    import uvloop

    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def serve(config: ServerConfig, on_ready: Callable[[Endpoints], None]) -> None:
    """Loads the models, serves until SIGTERM or SIGINT, then stops both endpoints cleanly."""
    manager = load_models(config.models)

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        running = _Running(config, manager)
        try:
            on_ready(await running.start())
            await stopping.wait()
        finally:
            await running.stop()

    loop = _new_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


class ModelServerHandle:
    """A model server running on a background thread; `stop()` (or `with`) ends it."""

    def __init__(self, config: ServerConfig) -> None:
        self._manager = load_models(config.models)
        self._config = config
        self._loop = _new_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._endpoints: Endpoints | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="tfprod-serve", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    @property
    def endpoints(self) -> Endpoints:
        assert self._endpoints is not None
        return self._endpoints

    @property
    def manager(self) -> ModelManager:
        return self._manager

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        running = _Running(self._config, self._manager)
        try:
            self._endpoints = await running.start()
        except BaseException as error:
            self._failure = error
            await running.stop()
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await running.stop()

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()

    def __enter__(self) -> ModelServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_model_server(config: ServerConfig) -> ModelServerHandle:
    """Loads the models and starts serving on a background thread; returns once both
    endpoints accept connections. Call `stop()` on the handle (or use it in `with`)."""
    return ModelServerHandle(config)
