"""Kubernetes name rules and the labels tfprod puts on what it declares, in one place.

The Policy document, the constructs, the cloud stacks and the CLI check names with these
patterns and explain a bad one with the matching `*_RULE` text, so the rule and its wording
never drift apart.
"""

from __future__ import annotations

import re

MAX_NAME = 63
"""Longest DNS label Kubernetes accepts."""
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A DNS-1123 label: namespaces, label values, service accounts, deployment environments."""
DNS_1123_LABEL_RULE = (
    "1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit"
)
DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
"""A DNS-1123 subdomain: Secret and ConfigMap names."""
DNS_1123_SUBDOMAIN_RULE = (
    "lower-case letters, digits, '-' or '.', starting and ending with a letter or digit"
)
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
"""A DNS-1035 label (a DNS-1123 label that starts with a letter): Services, deployment and
model names, since they become Service names."""
DNS_1035_LABEL_RULE = (
    "a DNS-1035 label: 1 to 63 lower-case letters, digits or '-', starting with a letter and"
    " ending with a letter or digit"
)
ROLE_LABEL = "tfprod.dev/role"
"""Pod label naming a version's role (stable, canary, ...)."""
DEPLOYMENT_LABEL = "tfprod.dev/deployment"
"""Label naming the deployment a Kubernetes object belongs to; `tfprod review` finds a
deployment's workloads by it."""


def is_dns_label(value: object) -> bool:
    """Whether `value` is a string and a DNS-1123 label."""
    return isinstance(value, str) and DNS_1123_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: object) -> bool:
    """Whether `value` is a string and a DNS-1123 subdomain."""
    return isinstance(value, str) and DNS_1123_SUBDOMAIN.fullmatch(value) is not None


def is_dns_1035_label(value: object) -> bool:
    """Whether `value` is a string and a DNS-1035 label."""
    return isinstance(value, str) and DNS_1035_LABEL.fullmatch(value) is not None


def dns_name(value: str) -> str:
    """The one rule mapping a name written in Python style to a Kubernetes name: lower-cased,
    with each `_` and `.` replaced by `-` ("recommendation_engine" -> "recommendation-engine").
    The result is not checked here: callers check it with the pattern they need and explain a
    failure with the matching `*_RULE`."""
    return value.lower().replace("_", "-").replace(".", "-")
