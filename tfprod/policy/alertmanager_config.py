"""Alertmanager routing for tfprod deployments (pure), in two renderings of one plan.

Here in `tfprod.policy` because both sides render it: the constructs deploy the
AlertmanagerConfig, and the local platform (`tfprod.runtime.local.alertmanager`) runs a real
Alertmanager on the native file.

Each deployment gets a receiver `<deployment>` (its Slack channel and e-mail addresses) and,
when it names a PagerDuty service, a receiver `<deployment>-page` (Slack, e-mail and PagerDuty)
that takes only `severity="critical"` alerts: rollbacks page, warnings do not. Routes match the
`deployment` label the rules set; critical alerts inhibit warnings of the same deployment.

- `alertmanager_config(routes_by_deployment)`: a native `alertmanager.yaml` (what
  `amtool check-config` reads). Secrets are files: a `SecretRef(name, key)` becomes
  `<secrets_dir>/<name>/<key>`, where the Prometheus operator mounts the Secrets listed in an
  Alertmanager's `spec.secrets` (`/etc/alertmanager/secrets/`).
- `alertmanager_config_spec(deployment, routes)`: the `spec` of one deployment's
  `AlertmanagerConfig` (monitoring.coreos.com/v1alpha1), with secrets as Secret key references
  the operator resolves in the deployment's namespace. The constructs deploy this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tfprod.policy import AlertRoutes, SecretRef

SECRETS_DIR: Final = "/etc/alertmanager/secrets"
GROUP_BY: Final = ("alertname", "deployment", "version")
NULL_RECEIVER: Final = "tfprod-null"
_DURATION: Final = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")
SLACK_TITLE: Final = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
SLACK_TEXT: Final = "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"


class AlertingError(ValueError):
    """Alert routing cannot be built from what was given; the message says what is missing."""


@dataclass(frozen=True, kw_only=True)
class Grouping:
    """How long Alertmanager batches a deployment's alerts (durations in its own notation)."""

    group_wait: str = "30s"
    """Wait before the first notification of a new group. Default: 30s."""
    group_interval: str = "5m"
    """Wait before notifying a group's changes, resolves included. Default: 5m."""
    repeat_interval: str = "4h"
    """Wait before repeating an unchanged notification. Default: 4h."""

    def __post_init__(self) -> None:
        for name in ("group_wait", "group_interval", "repeat_interval"):
            value = getattr(self, name)
            if not _DURATION.fullmatch(value):
                raise AlertingError(
                    f"{name} {value!r} is not an Alertmanager duration: a number and one of"
                    " ms, s, m, h, d, w, y, e.g. 30s"
                )


DEFAULT_GROUPING: Final = Grouping()


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    """How Alertmanager sends mail: the SMTP relay, sender and login. The password is each
    deployment's `AlertRoutes.smtp` Secret key, so it lives in the deployment's namespace."""

    smarthost: str
    """SMTP relay as host:port, e.g. "smtp.example.com:587"."""
    sender: str
    """The From address, e.g. "alerts@example.com"."""
    username: str | None = None
    """SMTP login, with the password in `AlertRoutes.smtp`. Default: none, the relay takes mail
    without authentication."""
    require_tls: bool = True
    """Refuse to send without STARTTLS. Default: true."""

    def __post_init__(self) -> None:
        host, colon, port = self.smarthost.rpartition(":")
        if not (host and colon and port.isdigit()):
            raise AlertingError(
                f"email smarthost {self.smarthost!r} is not host:port, e.g. smtp.example.com:587"
            )
        local, at, domain = self.sender.partition("@")
        if not (local and at and "." in domain):
            raise AlertingError(
                f"email sender {self.sender!r} is not an address like alerts@example.com"
            )


@dataclass(frozen=True, kw_only=True)
class _Receiver:
    name: str
    routes: AlertRoutes
    page: bool


def _receivers(deployment: str, routes: AlertRoutes) -> tuple[_Receiver, ...]:
    plain = _Receiver(name=deployment, routes=routes, page=False)
    if routes.pagerduty_service is None:
        return (plain,)
    return plain, _Receiver(name=f"{deployment}-page", routes=routes, page=True)


def _secret_file(secret: SecretRef, secrets_dir: str) -> str:
    return f"{secrets_dir}/{secret.name}/{secret.key}"


def alertmanager_config(
    routes_by_deployment: Mapping[str, AlertRoutes],
    *,
    email: EmailSettings | None = None,
    secrets_dir: str = SECRETS_DIR,
    grouping: Grouping = DEFAULT_GROUPING,
    pagerduty_url: str | None = None,
) -> dict[str, Any]:
    """A whole native Alertmanager configuration routing each deployment's alerts.

    `email` is needed as soon as one deployment routes to e-mail. Alerts of no listed
    deployment go to the `tfprod-null` receiver, which notifies nobody. `pagerduty_url` is
    the Events API v2 endpoint PagerDuty receivers post to (default: PagerDuty's own).
    """
    if email is None:
        mailing = sorted(name for name, routes in routes_by_deployment.items() if routes.emails)
        if mailing:
            raise AlertingError(
                f"deployments {', '.join(mailing)} route alerts to e-mail, but no email settings"
                " (smarthost, sender) were given"
            )
    planned = {
        deployment: _receivers(deployment, alert_routes)
        for deployment, alert_routes in sorted(routes_by_deployment.items())
    }
    _check_unique([NULL_RECEIVER, *(one.name for found in planned.values() for one in found)])
    receivers: list[dict[str, Any]] = [{"name": NULL_RECEIVER}]
    routes: list[dict[str, Any]] = []
    for deployment, found in planned.items():
        receivers.extend(_native_receiver(one, email, secrets_dir, pagerduty_url) for one in found)
        route: dict[str, Any] = {
            "receiver": deployment,
            "matchers": [f'deployment="{deployment}"'],
        }
        if len(found) > 1:
            route["routes"] = [{"receiver": found[1].name, "matchers": ['severity="critical"']}]
        routes.append(route)
    return {
        "route": {
            "receiver": NULL_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": grouping.group_wait,
            "group_interval": grouping.group_interval,
            "repeat_interval": grouping.repeat_interval,
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["namespace", "deployment"],
            }
        ],
        "receivers": receivers,
    }


def _check_unique(names: list[str]) -> None:
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise AlertingError(
            f"receiver names clash: {', '.join(clashes)}; a deployment's receivers are named"
            f" <deployment> and <deployment>-page, and {NULL_RECEIVER} is reserved: rename the"
            " deployment"
        )


def _native_receiver(
    receiver: _Receiver, email: EmailSettings | None, secrets_dir: str, pagerduty_url: str | None
) -> dict[str, Any]:
    routes = receiver.routes
    result: dict[str, Any] = {"name": receiver.name}
    if routes.slack_channel is not None:
        result["slack_configs"] = [
            {
                "channel": routes.slack_channel,
                "api_url_file": _secret_file(routes.slack_webhook, secrets_dir),
                "send_resolved": True,
                "title": SLACK_TITLE,
                "text": SLACK_TEXT,
            }
        ]
    if routes.emails and email is not None:
        result["email_configs"] = [
            {"to": address, **_native_email(email, routes.smtp, secrets_dir)}
            for address in routes.emails
        ]
    if receiver.page:
        pagerduty: dict[str, Any] = {
            "routing_key_file": _secret_file(routes.pagerduty_routing_key, secrets_dir),
            "description": "{{ .CommonAnnotations.summary }}",
            "send_resolved": True,
        }
        if pagerduty_url is not None:
            pagerduty["url"] = pagerduty_url
        result["pagerduty_configs"] = [pagerduty]
    return result


def _native_email(email: EmailSettings, password: SecretRef, secrets_dir: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "from": email.sender,
        "smarthost": email.smarthost,
        "require_tls": email.require_tls,
        "send_resolved": True,
    }
    if email.username is not None:
        result["auth_username"] = email.username
        result["auth_password_file"] = _secret_file(password, secrets_dir)
    return result


def _selector(secret: SecretRef) -> dict[str, str]:
    return {"name": secret.name, "key": secret.key}


def _matcher(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value, "matchType": "="}


def alertmanager_config_spec(
    deployment: str, routes: AlertRoutes, *, email: EmailSettings | None = None
) -> dict[str, Any]:
    """The `spec` of `deployment`'s AlertmanagerConfig (monitoring.coreos.com/v1alpha1).

    Without `email`, e-mail receivers leave smarthost and sender to the Alertmanager's global
    SMTP settings. The operator adds a `namespace` matcher to the route itself.
    """
    found = _receivers(deployment, routes)
    route: dict[str, Any] = {
        "receiver": deployment,
        "groupBy": list(GROUP_BY),
        "groupWait": DEFAULT_GROUPING.group_wait,
        "groupInterval": DEFAULT_GROUPING.group_interval,
        "repeatInterval": DEFAULT_GROUPING.repeat_interval,
        "matchers": [_matcher("deployment", deployment)],
    }
    if len(found) > 1:
        route["routes"] = [
            {"receiver": found[1].name, "matchers": [_matcher("severity", "critical")]}
        ]
    return {
        "route": route,
        "receivers": [_crd_receiver(one, email) for one in found],
        "inhibitRules": [
            {
                "sourceMatch": [_matcher("severity", "critical")],
                "targetMatch": [_matcher("severity", "warning")],
                "equal": ["namespace", "deployment"],
            }
        ],
    }


def _crd_receiver(receiver: _Receiver, email: EmailSettings | None) -> dict[str, Any]:
    routes = receiver.routes
    result: dict[str, Any] = {"name": receiver.name}
    if routes.slack_channel is not None:
        result["slackConfigs"] = [
            {
                "channel": routes.slack_channel,
                "apiURL": _selector(routes.slack_webhook),
                "sendResolved": True,
                "title": SLACK_TITLE,
                "text": SLACK_TEXT,
            }
        ]
    if routes.emails:
        result["emailConfigs"] = [
            {"to": address, "sendResolved": True, **_crd_email(email, routes.smtp)}
            for address in routes.emails
        ]
    if receiver.page:
        result["pagerdutyConfigs"] = [
            {
                "routingKey": _selector(routes.pagerduty_routing_key),
                "description": "{{ .CommonAnnotations.summary }}",
                "sendResolved": True,
            }
        ]
    return result


def _crd_email(email: EmailSettings | None, password: SecretRef) -> dict[str, Any]:
    if email is None:
        return {}
    result: dict[str, Any] = {
        "from": email.sender,
        "smarthost": email.smarthost,
        "requireTLS": email.require_tls,
    }
    if email.username is not None:
        result["authUsername"] = email.username
        result["authPassword"] = _selector(password)
    return result
