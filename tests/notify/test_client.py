"""The Alertmanager client never holds up or fails the controller: it queues, retries,
drops the oldest when full, counts and logs; without Alertmanager, events are printed."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.notify.conftest import HttpReceivers
from tfprod.runtime.local.alertmanager import RunningAlertmanager
from tfprod.runtime.local.ports import free_port
from tfprod.runtime.notify import (
    AlertmanagerNotifier,
    ConsoleNotifier,
    ControllerEvent,
    DeliverySettings,
    alert,
    notifier,
)

AT = datetime(2026, 12, 1, 22, 40, tzinfo=UTC)
GENERATOR = "http://127.0.0.1:8081/"
QUICK = DeliverySettings(attempts=3, backoff_s=0.01, timeout_s=2.0)


def step(version: str, at: datetime = AT) -> ControllerEvent:
    return ControllerEvent(
        kind="step",
        deployment="fraud",
        namespace="ml",
        severity="info",
        summary=f"{version} now takes 50%",
        at=at,
        labels={"version": version},
    )


def test_an_unreachable_alertmanager_is_counted_and_logged_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    client = AlertmanagerNotifier(
        f"http://admin:s3cret-pass@127.0.0.1:{port}/", generator_url=GENERATOR, settings=QUICK
    )

    async def run() -> bool:
        async with client:
            client.publish(step("fraud-v2"))
            return await client.drain(10.0)

    with caplog.at_level(logging.WARNING, logger="tfprod"):
        drained = asyncio.run(run())

    assert drained
    assert (client.counts.delivered, client.counts.retries, client.counts.failed) == (0, 2, 1)
    assert caplog.messages == [
        f"alertmanager at http://127.0.0.1:{port}: 1 events not delivered (ClientConnectorError)"
    ]


def test_a_5xx_is_retried_and_the_alert_arrives_as_posted(receivers: HttpReceivers) -> None:
    receivers.failing.add("/api/v2/alerts")
    client = AlertmanagerNotifier(receivers.url, generator_url=GENERATOR, settings=QUICK)

    async def run() -> None:
        async with client:
            client.publish(step("fraud-v2"))
            assert await client.drain(10.0)

    asyncio.run(run())

    assert (client.counts.delivered, client.counts.retries, client.counts.failed) == (1, 1, 0)
    [posted] = receivers.at("/api/v2/alerts")
    assert posted.body == [
        alert(step("fraud-v2"), generator_url=GENERATOR, hold=DeliverySettings().hold)
    ]


@pytest.mark.service
@pytest.mark.slow
def test_a_full_queue_drops_the_oldest_event(alertmanager: RunningAlertmanager) -> None:
    now = datetime.now(UTC)
    client = AlertmanagerNotifier(
        alertmanager.url,
        generator_url=GENERATOR,
        settings=DeliverySettings(queue_size=2, hold=timedelta(minutes=1)),
    )
    for version in ("fraud-v1", "fraud-v2", "fraud-v3"):  # before the poster runs
        client.publish(step(version, now))

    async def run() -> None:
        async with client:
            assert await client.drain(10.0)

    asyncio.run(run())
    with urllib.request.urlopen(f"{alertmanager.url}/api/v2/alerts", timeout=5) as response:
        held = json.load(response)

    assert (client.counts.dropped, client.counts.delivered) == (1, 2)
    assert sorted(one["labels"]["version"] for one in held) == ["fraud-v2", "fraud-v3"]


def test_without_an_alertmanager_each_event_is_printed_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    chosen = notifier(None, generator_url=GENERATOR)

    async def run() -> None:
        async with chosen:
            chosen.publish(step("fraud-v2"))
            chosen.publish(step("fraud-v3"))
            assert await chosen.drain(1.0)

    asyncio.run(run())

    assert isinstance(chosen, ConsoleNotifier)
    assert capsys.readouterr().out == (
        "2026-12-01T22:40:00.000Z INFO ml/fraud step version=fraud-v2: fraud-v2 now takes 50%\n"
        "2026-12-01T22:40:00.000Z INFO ml/fraud step version=fraud-v3: fraud-v3 now takes 50%\n"
    )


def test_with_an_alertmanager_url_events_are_posted_not_printed(
    receivers: HttpReceivers, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = notifier(receivers.url, generator_url=GENERATOR)

    async def run() -> None:
        async with chosen:
            chosen.publish(step("fraud-v2"))
            assert await chosen.drain(10.0)

    asyncio.run(run())

    [posted] = receivers.at("/api/v2/alerts")
    assert [one["labels"]["version"] for one in posted.body] == ["fraud-v2"]
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("url", "generator_url", "message"),
    [
        (
            "127.0.0.1:9093",
            GENERATOR,
            "alertmanager url '127.0.0.1:9093' is not an absolute http(s) URL,"
            " e.g. http://127.0.0.1:9093",
        ),
        (
            "ftp://admin:hunter2@alertmanager:9093",
            GENERATOR,
            "alertmanager url 'ftp://alertmanager:9093' is not an absolute http(s) URL,"
            " e.g. http://127.0.0.1:9093",
        ),
        (
            "http://127.0.0.1:9093",
            "",
            "generator url '' is not an absolute http(s) URL, e.g. http://127.0.0.1:9093",
        ),
    ],
)
def test_a_url_that_is_not_absolute_http_is_refused(
    url: str, generator_url: str, message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        AlertmanagerNotifier(url, generator_url=generator_url)

    assert str(raised.value) == message
