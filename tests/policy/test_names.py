"""The name rules every layer checks with, and the wording of a bad name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.policy.helpers import minimal_policy
from tfprod.policy import (
    DNS_1035_LABEL_RULE,
    DNS_1123_LABEL_RULE,
    MAX_NAME,
    Policy,
    is_dns_1035_label,
    is_dns_label,
    is_dns_subdomain,
)


@pytest.mark.parametrize(
    ("value", "dns_1123", "dns_1035"),
    [
        ("rec", True, True),
        ("rec-v2", True, True),
        ("2rec", True, False),
        ("a" * MAX_NAME, True, True),
        ("a" * (MAX_NAME + 1), False, False),
        ("Rec", False, False),
        ("rec-", False, False),
        ("-rec", False, False),
        ("rec.v2", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_dns_label_rules(value: object, dns_1123: bool, dns_1035: bool) -> None:
    assert (is_dns_label(value), is_dns_1035_label(value)) == (dns_1123, dns_1035)


def test_the_rule_texts_say_what_is_allowed() -> None:
    assert DNS_1123_LABEL_RULE == (
        "1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit"
    )
    assert DNS_1035_LABEL_RULE == (
        "a DNS-1035 label: 1 to 63 lower-case letters, digits or '-', starting with a letter and"
        " ending with a letter or digit"
    )


def test_a_policy_explains_a_bad_label_with_the_shared_rule() -> None:
    with pytest.raises(ValidationError) as error:
        Policy.model_validate(minimal_policy(namespace="ML"))
    assert error.value.errors()[0]["msg"] == (
        f"'ML' is not a DNS-1123 label: use {DNS_1123_LABEL_RULE}"
    )


@pytest.mark.parametrize(
    ("value", "valid"),
    [("slack-webhook", True), ("alerts.slack", True), ("a" * 253, True), ("a" * 254, False),
     ("Slack", False), (".slack", False), ("slack.", False), ("", False)],
)  # fmt: skip
def test_dns_subdomain_rule(value: str, valid: bool) -> None:
    assert is_dns_subdomain(value) is valid
