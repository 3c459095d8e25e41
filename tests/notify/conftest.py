"""Loopback receivers (webhook, Slack-, PagerDuty-shaped, SMTP) and a real local Alertmanager."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.alerting.conftest import amtool, proposal_policy, tool
from tests.gateway.upstream import ServerThread
from tfprod.policy.alertmanager_config import EmailSettings, Grouping
from tfprod.runtime.local.alertmanager import (
    AlertmanagerOptions,
    RunningAlertmanager,
    alert_routes,
    run_alertmanager,
    write_config,
)
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.local.processes import ProcessGroup

__all__ = ["amtool", "proposal_policy"]

FAST = Grouping(group_wait="1s", group_interval="1s", repeat_interval="1h")
"""Grouping for tests: the first notification after ~1 s, the resolve on the next second."""
# Fake secrets: what the test checks never leaves the configuration's secret files.
SLACK_TOKEN = "T0SECRET/B0SECRET/slacksecrettoken"
ROUTING_KEY = "f" * 24 + "5ecre7ee"
SMTP_PASSWORD = "smtp-secret-password"
SMTP_USER = "alerts"


@dataclass(frozen=True)
class Received:
    at: float
    """time.monotonic() on arrival."""
    path: str
    body: Any


@dataclass
class HttpReceivers:
    """One loopback HTTP server recording every POST (webhook, Slack and PagerDuty paths)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    """Paths whose next POST is answered 500 (then they answer normally)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.Response:
            body = await request.json()
            with self.lock:
                if request.path in self.failing:
                    self.failing.discard(request.path)
                    return web.json_response({"ok": False, "error": "try again"}, status=500)
                self.received.append(Received(time.monotonic(), request.path, body))
            return web.json_response({"ok": True, "status": "success"}, status=202)

        app = web.Application()
        app.router.add_post("/{tail:.*}", record)
        return app

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [one for one in self.received if one.path == path]


@dataclass
class MailReceiver:
    """An aiosmtpd server on loopback taking PLAIN auth (as a relay would, minus TLS)."""

    port: int
    mails: list[tuple[float, Envelope]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.mails.append((time.monotonic(), envelope))
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=True)


def message(envelope: Envelope) -> EmailMessage:
    """The e-mail an SMTP envelope carries, parsed."""
    assert isinstance(envelope.content, bytes)
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def wait_until(what: str, check: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def alertmanager_binary() -> str:
    return tool("prometheus-alertmanager")


@contextmanager
def http_receivers() -> Iterator[HttpReceivers]:
    """Serves `HttpReceivers` on loopback from a thread of its own."""
    thread = ServerThread()
    found = HttpReceivers()
    try:
        found.url = thread.serve(found.app)
        yield found
    finally:
        thread.close()


@contextmanager
def mail_receiver() -> Iterator[MailReceiver]:
    """Serves a `MailReceiver` on loopback from aiosmtpd's own thread."""
    found = MailReceiver(port=free_port())
    controller = Controller(
        found,
        hostname="127.0.0.1",
        port=found.port,
        authenticator=found.authenticate,
        auth_require_tls=False,
        # Alertmanager's LOGIN client does not speak aiosmtpd's LOGIN; PLAIN it does.
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield found
    finally:
        controller.stop()


@pytest.fixture
def receivers() -> Iterator[HttpReceivers]:
    with http_receivers() as found:
        yield found


@pytest.fixture
def mail() -> Iterator[MailReceiver]:
    with mail_receiver() as found:
        yield found


def secrets_env(receivers: HttpReceivers) -> dict[str, str]:
    """The proposal's Secrets, set as the local platform reads them."""
    return {
        "TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL": f"{receivers.url}/slack/{SLACK_TOKEN}",
        "TFPROD_SECRET_TFPROD_ALERTS_PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "TFPROD_SECRET_TFPROD_ALERTS_SMTP_PASSWORD": SMTP_PASSWORD,
    }


def loopback_options(receivers: HttpReceivers, mail: MailReceiver) -> AlertmanagerOptions:
    return AlertmanagerOptions(
        email=EmailSettings(
            smarthost=f"127.0.0.1:{mail.port}",
            sender="alerts@tfprod.example",
            username=SMTP_USER,
            require_tls=False,
        ),
        pagerduty_url=f"{receivers.url}/pagerduty/v2/enqueue",
        grouping=FAST,
    )


def add_webhook(config_file: Path, url: str) -> None:
    """Adds a generic webhook to every receiver of a rendered configuration (the Policy has
    no webhook destination; Alertmanager's webhook is what other tools integrate with)."""
    config = json.loads(config_file.read_text(encoding="utf-8"))
    for receiver in config["receivers"]:
        receiver["webhook_configs"] = [{"url": url, "send_resolved": True}]
    config_file.write_text(json.dumps(config), encoding="utf-8")


@contextmanager
def loopback_alertmanager(
    binary: str, receivers: HttpReceivers, mail: MailReceiver, workdir: Path
) -> Iterator[RunningAlertmanager]:
    """A real Alertmanager routing the proposal's alerts to the loopback receivers, plus a
    generic webhook on every receiver."""
    options = replace(loopback_options(receivers, mail), binary=binary)
    config_file = write_config(
        alert_routes([proposal_policy()]), workdir, options, environ=secrets_env(receivers)
    )
    add_webhook(config_file, f"{receivers.url}/webhook")
    with ProcessGroup() as group:
        yield run_alertmanager(config_file, workdir, group, options)


@pytest.fixture
def alertmanager(
    alertmanager_binary: str, receivers: HttpReceivers, mail: MailReceiver, tmp_path: Path
) -> Iterator[RunningAlertmanager]:
    with loopback_alertmanager(alertmanager_binary, receivers, mail, tmp_path) as running:
        yield running
