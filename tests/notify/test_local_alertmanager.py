"""The local Alertmanager's configuration: secrets from the environment or the workdir,
e-mail left out without a relay, nothing started when no deployment declares routes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.alerting.conftest import minimal_policy, proposal_policy
from tfprod.policy import SecretRef
from tfprod.policy.alertmanager_config import AlertingError, Grouping
from tfprod.runtime.local.alertmanager import (
    AlertmanagerOptions,
    LocalSecretError,
    alert_routes,
    secret_env_name,
    start_alertmanager,
    write_config,
)
from tfprod.runtime.local.processes import ProcessGroup

FRAUD_MONITOR = {"metrics": ["error_rate"], "alerts": {"slack": "#fraud"}}
SLACK_URL = "http://127.0.0.1:9/hooks/from-env"


def test_secret_variables_are_named_after_the_secret_and_key() -> None:
    assert (
        secret_env_name(SecretRef(name="tfprod-alerts", key="slack-webhook-url"))
        == "TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL"
    )
    assert secret_env_name(SecretRef(name="team.a", key="pd_key")) == "TFPROD_SECRET_TEAM_A_PD_KEY"


def test_without_alert_routes_nothing_is_started(tmp_path: Path) -> None:
    with ProcessGroup() as group:
        started = start_alertmanager([minimal_policy()], tmp_path, group, environ={})

        assert started is None
        assert group.services == ()
    assert list(tmp_path.iterdir()) == []


def test_a_secret_comes_from_the_environment_before_the_workdir(tmp_path: Path) -> None:
    in_workdir = tmp_path / "secrets" / "tfprod-alerts" / "slack-webhook-url"
    in_workdir.parent.mkdir(parents=True)
    in_workdir.write_text("http://127.0.0.1:9/hooks/from-file\n")
    routes = alert_routes([minimal_policy(monitor=FRAUD_MONITOR)])

    write_config(routes, tmp_path, environ={})
    from_file = (tmp_path / "alertmanager/secrets/tfprod-alerts/slack-webhook-url").read_text()
    write_config(
        routes, tmp_path, environ={"TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL": SLACK_URL}
    )
    from_env = (tmp_path / "alertmanager/secrets/tfprod-alerts/slack-webhook-url").read_text()

    assert (from_file, from_env) == ("http://127.0.0.1:9/hooks/from-file", SLACK_URL)


def test_a_missing_secret_says_where_to_put_it(tmp_path: Path) -> None:
    routes = alert_routes([minimal_policy(monitor=FRAUD_MONITOR)])

    with pytest.raises(LocalSecretError) as raised:
        write_config(routes, tmp_path, environ={})

    assert str(raised.value) == (
        "secret tfprod-alerts/slack-webhook-url is needed by the alert routes but not set: set"
        " TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL or write it to"
        f" {tmp_path}/secrets/tfprod-alerts/slack-webhook-url"
    )


def test_without_email_settings_email_is_left_out_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {
        "TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL": SLACK_URL,
        "TFPROD_SECRET_TFPROD_ALERTS_PAGERDUTY_ROUTING_KEY": "a-test-key",
    }
    with caplog.at_level(logging.WARNING, logger="tfprod"):
        config_file = write_config(alert_routes([proposal_policy()]), tmp_path, environ=environ)

    receivers = json.loads(config_file.read_text())["receivers"]
    assert [sorted(receiver) for receiver in receivers] == [
        ["name"],
        ["name", "slack_configs"],
        ["name", "pagerduty_configs", "slack_configs"],
    ]
    assert caplog.messages == [
        "no e-mail settings given: e-mail alerts of recommendation-engine are not sent locally"
    ]


def test_two_deployments_of_one_name_are_refused() -> None:
    policy = minimal_policy(monitor=FRAUD_MONITOR)

    with pytest.raises(ValueError, match="two deployments are named 'fraud'"):
        alert_routes([policy, policy])


def test_grouping_and_the_pagerduty_endpoint_reach_the_rendered_file(tmp_path: Path) -> None:
    environ = {
        "TFPROD_SECRET_TFPROD_ALERTS_SLACK_WEBHOOK_URL": SLACK_URL,
        "TFPROD_SECRET_TFPROD_ALERTS_PAGERDUTY_ROUTING_KEY": "a-test-key",
    }
    options = AlertmanagerOptions(
        grouping=Grouping(group_wait="1s", group_interval="2s", repeat_interval="1h30m"),
        pagerduty_url="http://127.0.0.1:9/v2/enqueue",
    )

    config_file = write_config(
        alert_routes([proposal_policy()]), tmp_path, options, environ=environ
    )

    config = json.loads(config_file.read_text())
    route = config["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "1s",
        "2s",
        "1h30m",
    )
    [pagerduty] = config["receivers"][2]["pagerduty_configs"]
    assert pagerduty["url"] == "http://127.0.0.1:9/v2/enqueue"


def test_a_grouping_that_is_not_a_duration_is_refused() -> None:
    with pytest.raises(AlertingError) as raised:
        Grouping(group_wait="1 second")

    assert str(raised.value) == (
        "group_wait '1 second' is not an Alertmanager duration: a number and one of ms, s, m,"
        " h, d, w, y, e.g. 30s"
    )
