"""Controller events through a real Alertmanager to loopback webhook, Slack-shaped,
PagerDuty-shaped and SMTP receivers: exact payloads, routing by severity, dedup, resolve."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.notify.conftest import (
    ROUTING_KEY,
    SLACK_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    HttpReceivers,
    MailReceiver,
    Received,
    message,
    wait_until,
)
from tfprod.runtime.local.alertmanager import RunningAlertmanager
from tfprod.runtime.notify import AlertmanagerNotifier, ControllerEvent, DeliverySettings

pytestmark = [
    pytest.mark.service,
    pytest.mark.slow,
    # aiosmtpd 1.4 sets its own deprecated Session.login_data on every successful AUTH.
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
]

GENERATOR = "http://127.0.0.1:8081/"
HOLD = timedelta(seconds=2)
SLACK_PATH = f"/slack/{SLACK_TOKEN}"
PAGERDUTY_PATH = "/pagerduty/v2/enqueue"
SUMMARY = "rolling back rec-v2.1.0: error_rate 7% > 5%"
ROLLBACK_LABELS = {
    "alertname": "TfprodRollbackStarted",
    "namespace": "ml",
    "deployment": "recommendation-engine",
    "severity": "critical",
    "event": "rollback_started",
    "source": "tfprod-controller",
    "version": "rec-v2.1.0",
}
ROLLBACK_SUBJECT = (
    "TfprodRollbackStarted recommendation-engine rec-v2.1.0"
    " (rollback_started ml critical tfprod-controller)"
)


def rollback_started(at: datetime) -> ControllerEvent:
    return ControllerEvent(
        kind="rollback_started",
        deployment="recommendation-engine",
        namespace="ml",
        severity="critical",
        summary=SUMMARY,
        at=at,
        labels={"version": "rec-v2.1.0"},
    )


def publish(alertmanager: RunningAlertmanager, *events: ControllerEvent) -> AlertmanagerNotifier:
    """Publishes `events` one by one and waits until each was posted."""

    async def run() -> AlertmanagerNotifier:
        settings = DeliverySettings(hold=HOLD, backoff_s=0.05)
        async with AlertmanagerNotifier(
            alertmanager.url, generator_url=GENERATOR, settings=settings
        ) as notifier:
            for event in events:
                notifier.publish(event)
                assert await notifier.drain(10.0)
        return notifier

    return asyncio.run(run())


def everything(receivers: HttpReceivers, mail: MailReceiver) -> list[list[Any]]:
    """What each receiver got: webhook, Slack, e-mail, PagerDuty."""
    return [
        receivers.at("/webhook"),
        receivers.at(SLACK_PATH),
        mail.mails,
        receivers.at(PAGERDUTY_PATH),
    ]


def statuses(found: list[Received], key: str) -> list[Any]:
    return [one.body[key] for one in found]


def test_a_rollback_pages_everyone_once_and_then_resolves(
    alertmanager: RunningAlertmanager, receivers: HttpReceivers, mail: MailReceiver
) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    event = rollback_started(at)

    notifier = publish(alertmanager, event, event)  # the second post is a duplicate

    assert notifier.counts.delivered == 2
    assert notifier.counts.failed == notifier.counts.dropped == 0
    wait_until(
        "the resolves", lambda: len(receivers.at(PAGERDUTY_PATH)) == 2 and len(mail.mails) == 2
    )
    wait_until(
        "slack and webhook resolves",
        lambda: len(receivers.at(SLACK_PATH)) == 2 and len(receivers.at("/webhook")) == 2,
    )
    webhook = receivers.at("/webhook")
    assert statuses(webhook, "status") == ["firing", "resolved"]
    for one, status in zip(webhook, ("firing", "resolved"), strict=True):
        assert one.body["receiver"] == "recommendation-engine-page"
        assert one.body["groupLabels"] == {
            "alertname": "TfprodRollbackStarted",
            "deployment": "recommendation-engine",
            "version": "rec-v2.1.0",
        }
        [delivered] = one.body["alerts"]
        assert delivered["status"] == status
        assert delivered["labels"] == ROLLBACK_LABELS
        assert delivered["annotations"] == {
            "summary": SUMMARY,
            "description": "Deployment recommendation-engine in namespace ml (version"
            f" rec-v2.1.0): a rollback started. {SUMMARY}",
        }
        assert delivered["generatorURL"] == GENERATOR
        assert datetime.fromisoformat(delivered["startsAt"]) == at
    assert datetime.fromisoformat(webhook[1].body["alerts"][0]["endsAt"]) == at + HOLD

    slack = receivers.at(SLACK_PATH)
    assert [one.body["channel"] for one in slack] == ["#ml-alerts", "#ml-alerts"]
    assert [one.body["attachments"][0]["title"] for one in slack] == [
        "[FIRING] TfprodRollbackStarted",
        "[RESOLVED] TfprodRollbackStarted",
    ]
    assert [one.body["attachments"][0]["text"] for one in slack] == [f"{SUMMARY}\n"] * 2

    pagerduty = receivers.at(PAGERDUTY_PATH)
    assert statuses(pagerduty, "event_action") == ["trigger", "resolve"]
    assert statuses(pagerduty, "routing_key") == [ROUTING_KEY] * 2
    assert [one.body["payload"]["summary"] for one in pagerduty] == [SUMMARY] * 2
    assert pagerduty[0].body["dedup_key"] == pagerduty[1].body["dedup_key"]

    mails = [message(envelope) for _, envelope in mail.mails]
    assert [envelope.rcpt_tos for _, envelope in mail.mails] == [["ml-team@company.com"]] * 2
    assert [envelope.mail_from for _, envelope in mail.mails] == ["alerts@tfprod.example"] * 2
    assert [one["Subject"] for one in mails] == [
        f"[FIRING:1] {ROLLBACK_SUBJECT}",
        f"[RESOLVED] {ROLLBACK_SUBJECT}",
    ]
    html = mails[0].get_body(("html",))
    assert html is not None
    assert SUMMARY in unescape(html.get_content())
    assert mail.logins == [(SMTP_USER.encode(), SMTP_PASSWORD.encode())] * 2


def test_a_warning_goes_to_slack_and_email_but_does_not_page(
    alertmanager: RunningAlertmanager, receivers: HttpReceivers, mail: MailReceiver
) -> None:
    paused = ControllerEvent(
        kind="paused",
        deployment="recommendation-engine",
        namespace="ml",
        severity="warning",
        summary="paused by alice",
        at=datetime.now(UTC),
    )

    publish(alertmanager, paused)

    wait_until(
        "the notifications",
        lambda: receivers.at(SLACK_PATH) and receivers.at("/webhook") and mail.mails,
    )
    [webhook] = receivers.at("/webhook")
    assert webhook.body["receiver"] == "recommendation-engine"
    assert webhook.body["alerts"][0]["labels"] == {
        "alertname": "TfprodRolloutPaused",
        "namespace": "ml",
        "deployment": "recommendation-engine",
        "severity": "warning",
        "event": "paused",
        "source": "tfprod-controller",
    }
    [slack] = receivers.at(SLACK_PATH)
    assert slack.body["attachments"][0]["text"] == "paused by alice\n"
    [(_, envelope)] = mail.mails
    assert message(envelope)["Subject"] == (
        "[FIRING:1] TfprodRolloutPaused recommendation-engine (paused ml warning tfprod-controller)"
    )
    assert receivers.at(PAGERDUTY_PATH) == []


def test_no_secret_reaches_a_log_or_the_configuration_file(
    alertmanager: RunningAlertmanager,
    receivers: HttpReceivers,
    mail: MailReceiver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receivers.failing.update({SLACK_PATH, PAGERDUTY_PATH, "/webhook"})  # Alertmanager logs these
    caplog.set_level(logging.DEBUG, logger="tfprod")

    publish(alertmanager, rollback_started(datetime.now(UTC)))
    # An Alertmanager that is not there, at a URL with credentials: the client logs the failure.
    offline = AlertmanagerNotifier(
        "http://admin:hunter2-secret@127.0.0.1:9", generator_url=GENERATOR,
        settings=DeliverySettings(attempts=2, backoff_s=0.01),
    )  # fmt: skip

    async def post_offline() -> None:
        async with offline:
            offline.publish(rollback_started(datetime.now(UTC)))
            assert await offline.drain(10.0)

    asyncio.run(post_offline())
    wait_until(
        "the deliveries after retries",
        lambda: receivers.at(SLACK_PATH) and receivers.at(PAGERDUTY_PATH) and mail.mails,
    )

    assert offline.counts.failed == 1
    alertmanager_log = (tmp_path / "logs" / "alertmanager.log").read_text(encoding="utf-8")
    assert "Notify attempt failed" in alertmanager_log  # the failures were logged ...
    assert any(record.name.startswith("tfprod") for record in caplog.records)
    config_text = alertmanager.config_file.read_text(encoding="utf-8")
    secrets = (SLACK_TOKEN, ROUTING_KEY, SMTP_PASSWORD, "hunter2-secret")
    for secret in secrets:  # ... without a secret in them
        assert secret not in caplog.text
        assert secret not in alertmanager_log
        assert secret not in config_text
    secret_files = sorted((tmp_path / "alertmanager" / "secrets").rglob("*"))
    assert [path.relative_to(tmp_path) for path in secret_files if path.is_file()] == [
        Path("alertmanager/secrets/tfprod-alerts/pagerduty-routing-key"),
        Path("alertmanager/secrets/tfprod-alerts/slack-webhook-url"),
        Path("alertmanager/secrets/tfprod-alerts/smtp-password"),
    ]
    for path in [alertmanager.config_file, *(one for one in secret_files if one.is_file())]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for directory in [
        tmp_path / "alertmanager" / "secrets",
        *(one for one in secret_files if one.is_dir()),
    ]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_the_local_configuration_passes_amtool_and_runs_on_loopback_without_a_cluster(
    alertmanager: RunningAlertmanager, amtool: str
) -> None:
    checked = subprocess.run(
        [amtool, "check-config", str(alertmanager.config_file)],
        check=False,
        capture_output=True,
        text=True,
    )
    with urllib.request.urlopen(f"{alertmanager.url}/api/v2/status", timeout=5) as response:
        status = json.load(response)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert alertmanager.url.startswith("http://127.0.0.1:")
    assert status["cluster"]["status"] == "disabled"
    assert status["cluster"].get("peers", []) == []
