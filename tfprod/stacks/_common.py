"""What the cloud stacks share: the registry prefix, name checks, bounded cloud names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from tfprod.bindings._core import Construct
from tfprod.constructs.errors import construct_error
from tfprod.policy.names import DNS_1123_LABEL_RULE, is_dns_label

REGISTRY_PREFIX = "registry"
"""The key prefix the registry lives under in the stack's bucket or container."""

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
BUCKET_NAME_RULE = (
    "3 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit"
)

_HASH_CHARS = 8


def bounded_name(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else a prefix of it, '-' and 8 hex digits of its
    SHA-256: deterministic, and distinct names stay distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:_HASH_CHARS]
    return f"{text[: limit - _HASH_CHARS - 1].rstrip('-')}-{digest}"


def check_name(
    construct: Construct, field: str, value: str, pattern: re.Pattern[str], rule: str
) -> str:
    """`value` when it matches `pattern` in full; a ConstructError naming `field` otherwise."""
    if not pattern.fullmatch(value):
        raise construct_error(construct, field, f"{value!r} is not valid", rule)
    return value


def check_writers(construct: Construct, writers: Sequence[str]) -> frozenset[str]:
    """The `registry_writers` service account names, each a DNS-1123 label."""
    if isinstance(writers, str):
        raise construct_error(
            construct,
            "registry_writers",
            f"{writers!r} is one string, not a list of names",
            f"a list of service account names, e.g. [{writers!r}]",
        )
    for name in writers:
        if is_dns_label(name):
            continue
        raise construct_error(
            construct,
            "registry_writers",
            f"{name!r} is not a service account name",
            DNS_1123_LABEL_RULE,
        )
    return frozenset(writers)


def service_account_subject(namespace: str, service_account: str) -> str:
    """The subject of a Kubernetes service account's projected token (the OIDC `sub` claim)."""
    return f"system:serviceaccount:{namespace}:{service_account}"
