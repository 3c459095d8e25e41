"""Where alerts go. Secrets are references to Kubernetes Secrets, never literals."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import field_validator, model_validator

from tfprod.policy._base import PolicyModel, invalid
from tfprod.policy.names import DNS_1123_SUBDOMAIN_RULE, is_dns_subdomain

_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
_SLACK_CHANNEL = re.compile(r"#[a-z0-9][a-z0-9_-]{0,79}")
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}")


def _is_routing_key(value: str) -> bool:
    return len(value) == 32 and all(char in string.hexdigits for char in value)


# What a secret looks like when pasted where a name belongs: (test, what it is).
SECRET_LOOKALIKES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda value: value.startswith("https://hooks.slack.com/"), "a Slack webhook URL"),
    (lambda value: value.startswith(("xoxb-", "xoxp-", "xoxa-", "xapp-")), "a Slack token"),
    (_is_routing_key, "a PagerDuty routing key"),
    (lambda value: "://" in value and "@" in value.partition("://")[2], "a URL with credentials"),
)


def reject_secret(value: str, field: str, reference: str) -> None:
    """Refuse a literal that looks like a secret, without repeating it in the error."""
    for looks_like, what in SECRET_LOOKALIKES:
        if looks_like(value):
            raise invalid(
                f"{field} looks like {what}; a policy never holds secrets: store it in a"
                f" Kubernetes Secret and give SecretRef(name, key) in {reference}"
            )


class SecretRef(PolicyModel):
    """A key of a Kubernetes Secret in the deployment's namespace."""

    name: str
    key: str

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not is_dns_subdomain(value):
            raise invalid(
                f"secret name {value!r} is not a DNS-1123 subdomain: use {DNS_1123_SUBDOMAIN_RULE}"
            )
        return value

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        if not _SECRET_KEY.fullmatch(value):
            raise invalid(
                f"secret key {value!r} is not valid: use letters, digits, '-', '_' or '.'"
            )
        return value


def _default_secret(key: str) -> SecretRef:
    return SecretRef(name="tfprod-alerts", key=key)


class AlertRoutes(PolicyModel):
    """Alert destinations; also accepts the proposal's
    {"slack": "#ml-alerts", "email": [...], "pagerduty": "ml-on-call"}."""

    slack_channel: str | None = None
    """Slack channel, e.g. "#ml-alerts". Default: no Slack alerts."""
    slack_webhook: SecretRef = _default_secret("slack-webhook-url")
    """Secret holding the Slack incoming-webhook URL. Default: tfprod-alerts/slack-webhook-url."""
    emails: tuple[str, ...] = ()
    """Addresses to mail. Default: no e-mail alerts."""
    smtp: SecretRef = _default_secret("smtp-password")
    """Secret holding the password Alertmanager logs in to the SMTP relay with (its
    `auth_password_file`; read only when the stack's e-mail settings name a username). Default:
    tfprod-alerts/smtp-password."""
    pagerduty_service: str | None = None
    """PagerDuty service name, e.g. "ml-on-call". Default: no pages."""
    pagerduty_routing_key: SecretRef = _default_secret("pagerduty-routing-key")
    """Secret holding the service's Events API v2 routing key. Default:
    tfprod-alerts/pagerduty-routing-key."""

    @model_validator(mode="before")
    @classmethod
    def _read_proposal_form(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or not {"slack", "email", "pagerduty"} & set(value):
            return value
        renamed = {"slack": "slack_channel", "email": "emails", "pagerduty": "pagerduty_service"}
        result = {renamed.get(key, key): item for key, item in value.items()}
        if isinstance(result.get("emails"), str):
            result["emails"] = [result["emails"]]
        return result

    @field_validator("slack_channel")
    @classmethod
    def _check_slack(cls, value: str | None) -> str | None:
        if value is not None:
            reject_secret(value, "slack channel", "slack_webhook")
            if not _SLACK_CHANNEL.fullmatch(value):
                raise invalid(
                    f"slack channel {value!r} is not valid: write '#' and the channel name,"
                    " e.g. '#ml-alerts'"
                )
        return value

    @field_validator("emails")
    @classmethod
    def _check_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            reject_secret(address, "email address", "smtp")
            local, at, domain = address.partition("@")
            if not (local and at and "." in domain.strip(".")) or " " in address:
                raise invalid(f"email {address!r} is not an address like name@example.com")
        return value

    @field_validator("pagerduty_service")
    @classmethod
    def _check_pagerduty(cls, value: str | None) -> str | None:
        if value is not None:
            reject_secret(value, "pagerduty service", "pagerduty_routing_key")
            if not _SERVICE.fullmatch(value):
                raise invalid(
                    f"pagerduty service {value!r} is not valid: use letters, digits, spaces,"
                    " '_', '.' or '-'"
                )
        return value

    @model_validator(mode="after")
    def _check_some_route(self) -> AlertRoutes:
        if self.slack_channel is None and not self.emails and self.pagerduty_service is None:
            raise invalid("alert routes name no destination: give slack, email or pagerduty")
        return self
