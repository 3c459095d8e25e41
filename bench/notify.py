"""Controller notifications through a real Alertmanager, measured in one run.

A real Alertmanager (Debian `prometheus-alertmanager`) on loopback routes the proposal's
alerts with `group_wait: 1s`, `group_interval: 1s` to loopback receivers: a generic webhook,
a Slack-shaped and a PagerDuty-shaped HTTP receiver and an SMTP server (aiosmtpd), the same
ones the tests in `tests/notify/` deliver to. Each run publishes one critical event (its own
version, so its own group) and measures, per receiver:

- delivery: from `publish()` to the firing notification's arrival;
- resolve: from the alert's `endsAt` (publish + `--hold`) to the resolve's arrival.

It also times `publish()` itself against a live and against an unreachable Alertmanager, side
by side: the controller's cost of notifying, which must not depend on Alertmanager.

    .venv/bin/python bench/notify.py --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' receivers

from tests.notify.conftest import (
    HttpReceivers,
    MailReceiver,
    http_receivers,
    loopback_alertmanager,
    mail_receiver,
    message,
)
from tfprod.runtime.local.alertmanager import ALERTMANAGER, RunningAlertmanager
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.notify import (
    AlertmanagerNotifier,
    ControllerEvent,
    DeliverySettings,
)

RECEIVERS = ("webhook", "slack", "pagerduty", "email")
GENERATOR = "http://127.0.0.1:8081/"


def event(version: str) -> ControllerEvent:
    return ControllerEvent(
        kind="rollback_started",
        deployment="recommendation-engine",
        namespace="ml",
        severity="critical",
        summary=f"rolling back {version}: error_rate 7% > 5%",
        at=datetime.now(UTC),
        labels={"version": version},
    )


def arrivals(
    receivers: HttpReceivers, mail: MailReceiver, version: str, status: str
) -> dict[str, float]:
    """When each receiver got the `status` ("firing"/"resolved") notification of `version`."""
    found: dict[str, float] = {}
    with receivers.lock:
        received = list(receivers.received)
    for one in received:
        text = str(one.body)
        if version not in text:
            continue
        if one.path == "/webhook" and one.body["status"] == status:
            found["webhook"] = one.at
        elif one.path.startswith("/slack/") and f"[{status.upper()}" in text:
            found["slack"] = one.at
        elif one.path.startswith("/pagerduty/") and one.body["event_action"] == (
            "trigger" if status == "firing" else "resolve"
        ):
            found["pagerduty"] = one.at
    for at, envelope in mail.mails:
        subject = str(message(envelope)["Subject"])
        if version in subject and subject.startswith(f"[{status.upper()}"):
            found["email"] = at
    return found


def wait_for(
    receivers: HttpReceivers, mail: MailReceiver, version: str, status: str
) -> dict[str, float]:
    deadline = time.monotonic() + 30
    found: dict[str, float] = {}
    while time.monotonic() < deadline:
        found = arrivals(receivers, mail, version, status)
        if len(found) == len(RECEIVERS):
            return found
        time.sleep(0.005)
    raise SystemExit(f"{status} notification of {version} reached only {', '.join(found)}")


def measure(
    alertmanager: RunningAlertmanager,
    receivers: HttpReceivers,
    mail: MailReceiver,
    runs: int,
    hold: float,
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    delivery: dict[str, list[float]] = {name: [] for name in RECEIVERS}
    resolve: dict[str, list[float]] = {name: [] for name in RECEIVERS}
    publish_s: list[float] = []
    settings = DeliverySettings(hold=timedelta(seconds=hold))

    async def run() -> None:
        async with AlertmanagerNotifier(
            alertmanager.url, generator_url=GENERATOR, settings=settings
        ) as notifier:
            for index in range(runs):
                version = f"bench-v{index}"
                posted = time.monotonic()
                notifier.publish(event(version))
                publish_s.append(time.monotonic() - posted)
                await notifier.drain(10.0)
                fired = await asyncio.to_thread(wait_for, receivers, mail, version, "firing")
                resolved = await asyncio.to_thread(wait_for, receivers, mail, version, "resolved")
                for name in RECEIVERS:
                    delivery[name].append(fired[name] - posted)
                    resolve[name].append(resolved[name] - (posted + hold))

    asyncio.run(run())
    return delivery, resolve, publish_s


def publish_cost_unreachable(runs: int) -> list[float]:
    """publish() timings against a port where nothing listens."""
    settings = DeliverySettings(attempts=2, backoff_s=0.01, timeout_s=1.0)
    timings: list[float] = []

    async def run() -> None:
        async with AlertmanagerNotifier(
            f"http://127.0.0.1:{free_port()}", generator_url=GENERATOR, settings=settings
        ) as notifier:
            for index in range(runs):
                posted = time.monotonic()
                notifier.publish(event(f"offline-v{index}"))
                timings.append(time.monotonic() - posted)
                await notifier.drain(10.0)

    asyncio.run(run())
    return timings


def row(name: str, values: list[float], scale: float, unit: str) -> str:
    return (
        f"{name:<24} {statistics.median(values) * scale:>10.3f} {max(values) * scale:>10.3f}"
        f"  {unit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--hold", type=float, default=2.0, help="seconds before endsAt (above group_wait)"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        http_receivers() as receivers,
        mail_receiver() as mail,
        loopback_alertmanager(ALERTMANAGER, receivers, mail, Path(workdir)) as alertmanager,
    ):
        delivery, resolve, live = measure(alertmanager, receivers, mail, args.runs, args.hold)
    offline = publish_cost_unreachable(args.runs)
    sys.stdout.write(
        f"{args.runs} runs, group_wait 1s, group_interval 1s, hold {args.hold:g} s\n"
        f"{'':<24} {'median':>10} {'max':>10}\n"
    )
    for name in RECEIVERS:
        sys.stdout.write(row(f"delivery {name}", delivery[name], 1, "s") + "\n")
    for name in RECEIVERS:
        sys.stdout.write(row(f"resolve {name}", resolve[name], 1, "s after endsAt") + "\n")
    sys.stdout.write(row("publish(), live", live, 1e6, "us") + "\n")
    sys.stdout.write(row("publish(), unreachable", offline, 1e6, "us") + "\n")
    ratio = statistics.median(offline) / statistics.median(live)
    sys.stdout.write(f"publish() unreachable / live: {ratio:.2f}x\n")


if __name__ == "__main__":
    main()
