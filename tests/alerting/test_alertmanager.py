"""Alertmanager routing: exact structure, amtool check-config and amtool's routing test."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tfprod.constructs.alerting import (
    AlertingError,
    EmailSettings,
    alertmanager_config,
    alertmanager_config_spec,
)
from tfprod.policy import AlertRoutes, SecretRef

PROPOSAL_ROUTES = AlertRoutes.model_validate(
    {"slack": "#ml-alerts", "email": ["ml-team@company.com"], "pagerduty": "ml-on-call"}
)
SLACK_ONLY = AlertRoutes.model_validate({"slack": "#fraud"})
EMAIL = EmailSettings(
    smarthost="smtp.example.com:587", sender="alerts@example.com", username="alerts"
)
SLACK = {
    "channel": "#ml-alerts",
    "send_resolved": True,
    "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
    "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
}


def test_pages_only_critical_alerts_and_sends_the_rest_to_slack_and_email() -> None:
    config = alertmanager_config(
        {"recommendation-engine": PROPOSAL_ROUTES}, email=EMAIL, secrets_dir="/s"
    )

    email = {
        "to": "ml-team@company.com",
        "from": "alerts@example.com",
        "smarthost": "smtp.example.com:587",
        "require_tls": True,
        "send_resolved": True,
        "auth_username": "alerts",
        "auth_password_file": "/s/tfprod-alerts/smtp-password",
    }
    slack = {**SLACK, "api_url_file": "/s/tfprod-alerts/slack-webhook-url"}
    assert config == {
        "route": {
            "receiver": "tfprod-null",
            "group_by": ["alertname", "deployment", "version"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": "recommendation-engine",
                    "matchers": ['deployment="recommendation-engine"'],
                    "routes": [
                        {
                            "receiver": "recommendation-engine-page",
                            "matchers": ['severity="critical"'],
                        }
                    ],
                }
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["namespace", "deployment"],
            }
        ],
        "receivers": [
            {"name": "tfprod-null"},
            {
                "name": "recommendation-engine",
                "slack_configs": [slack],
                "email_configs": [email],
            },
            {
                "name": "recommendation-engine-page",
                "slack_configs": [slack],
                "email_configs": [email],
                "pagerduty_configs": [
                    {
                        "routing_key_file": "/s/tfprod-alerts/pagerduty-routing-key",
                        "description": "{{ .CommonAnnotations.summary }}",
                        "send_resolved": True,
                    }
                ],
            },
        ],
    }


def test_secret_files_follow_the_secret_references() -> None:
    routes = AlertRoutes(
        slack_channel="#ml", slack_webhook=SecretRef(name="team-slack", key="webhook")
    )

    config = alertmanager_config({"fraud": routes})

    assert config["receivers"][1]["slack_configs"][0]["api_url_file"] == (
        "/etc/alertmanager/secrets/team-slack/webhook"
    )


def test_email_routes_need_email_settings() -> None:
    with pytest.raises(AlertingError) as error:
        alertmanager_config({"recommendation-engine": PROPOSAL_ROUTES, "fraud": SLACK_ONLY})

    assert str(error.value) == (
        "deployments recommendation-engine route alerts to e-mail, but no email settings"
        " (smarthost, sender) were given"
    )


def test_receiver_names_must_not_clash() -> None:
    paging = AlertRoutes.model_validate({"pagerduty": "ml-on-call"})

    with pytest.raises(AlertingError) as error:
        alertmanager_config({"fraud": paging, "fraud-page": SLACK_ONLY, "tfprod-null": SLACK_ONLY})

    assert str(error.value) == (
        "receiver names clash: fraud-page, tfprod-null; a deployment's receivers are named"
        " <deployment> and <deployment>-page, and tfprod-null is reserved: rename the deployment"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"smarthost": "smtp.example.com"},
            "email smarthost 'smtp.example.com' is not host:port, e.g. smtp.example.com:587",
        ),
        (
            {"sender": "alerts"},
            "email sender 'alerts' is not an address like alerts@example.com",
        ),
    ],
)
def test_bad_email_settings_are_refused(changes: dict[str, str], message: str) -> None:
    settings = {"smarthost": "smtp.example.com:587", "sender": "alerts@example.com", **changes}

    with pytest.raises(AlertingError) as error:
        EmailSettings(**settings)

    assert str(error.value) == message


def test_operator_spec_references_secrets_by_name_and_key() -> None:
    spec = alertmanager_config_spec("recommendation-engine", PROPOSAL_ROUTES)

    page = spec["receivers"][1]
    assert spec["route"]["matchers"] == [
        {"name": "deployment", "value": "recommendation-engine", "matchType": "="}
    ]
    assert spec["route"]["routes"] == [
        {
            "receiver": "recommendation-engine-page",
            "matchers": [{"name": "severity", "value": "critical", "matchType": "="}],
        }
    ]
    assert page["slackConfigs"][0]["apiURL"] == {
        "name": "tfprod-alerts",
        "key": "slack-webhook-url",
    }
    assert page["pagerdutyConfigs"][0]["routingKey"] == {
        "name": "tfprod-alerts",
        "key": "pagerduty-routing-key",
    }
    assert page["emailConfigs"] == [{"to": "ml-team@company.com", "sendResolved": True}]


def test_operator_spec_with_email_settings_references_the_password_secret() -> None:
    spec = alertmanager_config_spec("recommendation-engine", PROPOSAL_ROUTES, email=EMAIL)

    assert spec["receivers"][0]["emailConfigs"] == [
        {
            "to": "ml-team@company.com",
            "sendResolved": True,
            "from": "alerts@example.com",
            "smarthost": "smtp.example.com:587",
            "requireTLS": True,
            "authUsername": "alerts",
            "authPassword": {"name": "tfprod-alerts", "key": "smtp-password"},
        }
    ]


def test_a_deployment_without_pagerduty_has_one_receiver_and_no_child_route() -> None:
    spec = alertmanager_config_spec("fraud", SLACK_ONLY)

    assert [receiver["name"] for receiver in spec["receivers"]] == ["fraud"]
    assert "routes" not in spec["route"]


def write_config(tmp_path: Path, secret_files: Path) -> Path:
    config = alertmanager_config(
        {"recommendation-engine": PROPOSAL_ROUTES, "fraud": SLACK_ONLY},
        email=EMAIL,
        secrets_dir=str(secret_files),
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def amtool_run(amtool: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [amtool, *arguments], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.service
def test_amtool_accepts_the_config(amtool: str, tmp_path: Path, secret_files: Path) -> None:
    path = write_config(tmp_path, secret_files)

    result = amtool_run(amtool, "check-config", str(path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[1:] == [
        "Found:",
        " - global config",
        " - route",
        " - 1 inhibit rules",
        " - 4 receivers",
        " - 0 templates",
    ]


@pytest.mark.service
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["deployment=recommendation-engine", "severity=critical"], "recommendation-engine-page"),
        (["deployment=recommendation-engine", "severity=warning"], "recommendation-engine"),
        (["deployment=fraud", "severity=critical"], "fraud"),
        (["deployment=unknown", "severity=critical"], "tfprod-null"),
    ],
)
def test_amtool_routes_each_alert_to_its_deployment(
    amtool: str, tmp_path: Path, secret_files: Path, labels: list[str], receiver: Any
) -> None:
    path = write_config(tmp_path, secret_files)

    result = amtool_run(amtool, "config", "routes", "test", f"--config.file={path}", *labels)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


TEAM_MAIL = AlertRoutes(
    emails=("fraud-team@company.com",), smtp=SecretRef(name="fraud-mail", key="password")
)


def test_email_logs_in_with_the_deployments_smtp_secret_in_both_renderings() -> None:
    config = alertmanager_config({"fraud": TEAM_MAIL}, email=EMAIL, secrets_dir="/s")
    spec = alertmanager_config_spec("fraud", TEAM_MAIL, email=EMAIL)

    assert config["receivers"][1]["email_configs"][0]["auth_password_file"] == (
        "/s/fraud-mail/password"
    )
    assert spec["receivers"][0]["emailConfigs"][0]["authPassword"] == {
        "name": "fraud-mail",
        "key": "password",
    }


def test_email_without_a_login_reads_no_smtp_secret() -> None:
    anonymous = EmailSettings(smarthost="smtp.example.com:25", sender="alerts@example.com")

    config = alertmanager_config({"fraud": TEAM_MAIL}, email=anonymous, secrets_dir="/s")
    spec = alertmanager_config_spec("fraud", TEAM_MAIL, email=anonymous)

    assert "auth_password_file" not in config["receivers"][1]["email_configs"][0]
    assert "authPassword" not in spec["receivers"][0]["emailConfigs"][0]


@pytest.mark.service
def test_amtool_accepts_a_deployments_own_smtp_secret(amtool: str, tmp_path: Path) -> None:
    password = tmp_path / "secrets" / "fraud-mail" / "password"
    password.parent.mkdir(parents=True)
    password.write_text("dummy-password")
    config = alertmanager_config(
        {"fraud": TEAM_MAIL}, email=EMAIL, secrets_dir=str(tmp_path / "secrets")
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))

    result = amtool_run(amtool, "check-config", str(path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load(path.read_text())["receivers"][1]["email_configs"][0][
        "auth_password_file"
    ] == str(password)
