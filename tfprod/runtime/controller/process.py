"""The `tfprod controller` process: the loop, its sources, stores and notifier, and the API.

Everything runs on one asyncio event loop: the controller loop (`ControllerLoop.run`) and the
controller API (`tfprod.runtime.controller.api.build_api`, aiohttp) on `host:port`, plus
`GET /healthz` (200 "ok", no token: a readiness probe) and the web dashboard at `/dashboard/`
(`tfprod.runtime.dashboard`: static files, no token; every call it makes needs one). Every
observation is also kept for the API's `/metrics` of each deployment, and `/explanations`
are read through the gateways the direct source reads.

Observe: with `gateways` (base URLs of every gateway replica), the direct source reads their
`/metrics` at each check (no scrape interval in between: the fast detection `tfprod up`
uses); otherwise Prometheus at `prometheus_url`, job `prometheus_job` (a cluster, where the
gateway replicas come and go and Prometheus knows them).

Persist: with `status_dir`, the status files there (locally; one controller, no Lease);
otherwise each deployment's status ConfigMap in `namespace`, written only while this process
holds the `coordination.k8s.io` Lease `LEASE_NAME` there (a non-leader observes nothing and
acts on nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from tfprod.policy import Policy
from tfprod.policy.status import STATUS_KEY
from tfprod.runtime.controller.api import build_api
from tfprod.runtime.controller.loop import ControllerLoop, Observe
from tfprod.runtime.controller.stores import ConfigMapStore, FileStatusStore, StatusStore
from tfprod.runtime.dashboard import (
    GatewayExplanations,
    ObservationLog,
    add_dashboard,
    recorded_gateways,
    recorded_prometheus,
)
from tfprod.runtime.kube import ConfigMapStatusStore, LeaseElector, api_client
from tfprod.runtime.notify import notifier
from tfprod.runtime.observe import GatewayScrapeSource, PrometheusSource

log = logging.getLogger("tfprod.controller")

LEASE_NAME = "tfprod-controller"
"""The Lease the controllers of a namespace compete for (the Role grants exactly this one)."""
HEALTH_PATH = "/healthz"


@dataclass(frozen=True, kw_only=True)
class KubernetesAccess:
    """How to reach the API server; all None: the pod's service account."""

    url: str | None = None
    token: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True, kw_only=True)
class ControllerOptions:
    """What one controller process runs (see the module doc for the choices)."""

    policies: Mapping[str, Policy]
    """By deployment name."""
    admin_token: str
    """Bearer token of the controller API."""
    host: str = "127.0.0.1"
    port: int = 8090
    gateways: tuple[str, ...] = ()
    """Gateway replica base URLs: the direct source. Default: none (Prometheus)."""
    prometheus_url: str | None = None
    prometheus_job: str = "tfprod-gateway"
    """The gateways' scrape job (the Prometheus operator names it after the Service)."""
    status_dir: Path | None = None
    """Status files here. Default: none (status ConfigMaps and the Lease in `namespace`)."""
    namespace: str | None = None
    kubernetes: KubernetesAccess = KubernetesAccess()
    identity: str = "tfprod-controller"
    """This candidate's name in the Lease (the pod name in a cluster)."""
    alertmanager_url: str | None = None
    """Where events are posted; None prints them, one line each."""


async def run_controller(options: ControllerOptions, *, stop: asyncio.Event) -> None:
    """Runs until `stop` is set."""
    async with contextlib.AsyncExitStack() as stack:
        stores, may_act = _stores(options, stack)
        observed = ObservationLog()
        observe = await _source(options, stack, observed)
        explanations = GatewayExplanations(options.gateways)
        await stack.enter_async_context(explanations)
        url = f"http://{options.host}:{options.port}"
        events = notifier(options.alertmanager_url, generator_url=url)
        await stack.enter_async_context(events)
        loop = ControllerLoop(
            policies=options.policies,
            stores=stores,
            observe=observe,
            notifier=events,
            writer=f"controller {options.identity}",
            may_act=may_act,
        )
        app = build_api(loop, options.admin_token, metrics=observed, explanations=explanations)
        app.router.add_get(HEALTH_PATH, _healthy)
        add_dashboard(app)
        await stack.enter_async_context(_serving(app, options))
        log.info("controller on %s for %s", url, ", ".join(loop.deployments()))
        running = asyncio.create_task(loop.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait((running, stopping), return_when=asyncio.FIRST_COMPLETED)
        running.cancel()
        stopping.cancel()
        results = await asyncio.gather(running, stopping, return_exceptions=True)
        if isinstance(results[0], Exception):
            raise results[0]


def serve_controller(options: ControllerOptions) -> None:
    """Runs the controller until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await run_controller(options, stop=stop)

    asyncio.run(main())


def _stores(
    options: ControllerOptions, stack: contextlib.AsyncExitStack
) -> tuple[dict[str, StatusStore], Callable[[], bool]]:
    if options.status_dir is not None:
        directory = options.status_dir
        return {name: FileStatusStore(directory, name) for name in options.policies}, (lambda: True)
    if options.namespace is None:
        raise ValueError("namespace: give the status ConfigMaps' namespace, or a status_dir")
    access = options.kubernetes
    client = api_client(host=access.url, token=access.token, ca_file=access.ca_file)
    stack.callback(client.close)
    elector = LeaseElector(
        client, namespace=options.namespace, name=LEASE_NAME, identity=options.identity
    )
    elector.start()
    stack.callback(elector.stop)
    stores: dict[str, StatusStore] = {
        name: ConfigMapStore(
            ConfigMapStatusStore(
                client,
                namespace=options.namespace,
                deployment=name,
                key=STATUS_KEY,
                may_write=elector.is_leader,
            )
        )
        for name in options.policies
    }
    return stores, elector.is_leader


async def _source(
    options: ControllerOptions, stack: contextlib.AsyncExitStack, observed: ObservationLog
) -> Observe:
    if options.gateways:
        direct = GatewayScrapeSource(replicas=options.gateways)
        return recorded_gateways(await stack.enter_async_context(direct), observed)
    if options.prometheus_url is None:
        raise ValueError("give the gateways' URLs or Prometheus' URL to observe them")
    prometheus = PrometheusSource(url=options.prometheus_url, job=options.prometheus_job)
    return recorded_prometheus(await stack.enter_async_context(prometheus), observed)


@contextlib.asynccontextmanager
async def _serving(app: web.Application, options: ControllerOptions) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, options.host, options.port).start()
        yield
    finally:
        await runner.cleanup()


async def _healthy(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
