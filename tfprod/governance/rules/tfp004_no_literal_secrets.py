"""TFP004: no secret is written literally into the synthesized JSON.

Terraform state and the plan keep every literal in clear text, and `cdk.tf.json` is reviewed and
committed. Secrets belong in Kubernetes Secrets (referenced by name and key) or in sensitive
Terraform variables. Flagged, without ever repeating the value:

- any string holding a Slack webhook URL or token, a 32-hex PagerDuty routing key, or a URL
  with `user:password@`;
- a field named like a secret (password, token, api_key, routing_key, webhook_url,
  client_secret, ...) holding a literal, or a reference to a variable not marked sensitive;
- literal values in a Kubernetes Secret's `data` or `string_data`;
- a default value on a sensitive variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import COMMENT_KEY, Entry, StackView, is_reference, walk

_LOOKALIKES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"https://hooks\.slack\.com/\S+"), "a Slack webhook URL"),
    (re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}"), "a Slack token"),
    (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])"), "a 32-hex routing key"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
)

LEVEL: Level = "error"
TITLE = "no literal secrets in the synthesized JSON"
_ANY_LOOKALIKE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _LOOKALIKES))
"""One search that finds whether any lookalike is present (most strings hold none)."""
_SECRET_FIELD = re.compile(
    r"(^|_)(password|passwd|token|secret|api_key|apikey|routing_key|service_key|webhook_url"
    r"|private_key|access_key|secret_key)$"
)
_VARIABLE = re.compile(r"\$\{var\.([A-Za-z0-9_-]+)\}")
SECRET_TYPES = ("kubernetes_secret", "kubernetes_secret_v1")
_ADVICE = "store it in a Kubernetes Secret or a sensitive Terraform variable and reference it"


@cache
def _snake(key: str) -> str:
    """`routingKey` -> `routing_key`, so camelCase manifests are checked like HCL."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower().replace("-", "_")


def _value_problem(view: StackView, key: str, value: str) -> str | None:
    if _ANY_LOOKALIKE.search(value):
        what = next(what for pattern, what in _LOOKALIKES if pattern.search(value))
        return f"holds {what}"
    if not value or not _SECRET_FIELD.search(_snake(key)):
        return None
    variable = _VARIABLE.fullmatch(value)
    if variable is not None:
        if variable.group(1) in view.sensitive_variables:
            return None
        return f"takes variable {variable.group(1)!r}, which is not marked sensitive"
    if is_reference(value):
        return None
    return "holds a literal value"


def _scan(view: StackView, entries: Iterable[Entry]) -> Iterator[tuple[str, str]]:
    """(location, problem) for every string that gives a secret away."""
    for location, key, value in entries:
        if isinstance(value, str):
            problem = _value_problem(view, key, value)
            if problem is not None:
                yield location, problem


def check(view: StackView) -> Iterator[Hit]:
    for resource in view.resources:
        problems = dict(_scan(view, resource.entries))
        if resource.type in SECRET_TYPES:
            for field in ("data", "string_data"):
                for key, value in sorted(resource.body.get(field, {}).items()):
                    if isinstance(value, str) and value and not is_reference(value):
                        problems.setdefault(f"{field}.{key}", "holds a literal value")
        for location, problem in problems.items():
            yield resource.path, f"{location} {problem}; {_ADVICE}"
    for section in ("provider", "data", "locals", "output", "terraform", "variable"):
        tree = {k: v for k, v in view.document.get(section, {}).items() if k != COMMENT_KEY}
        for location, problem in _scan(view, walk(tree, section)):
            yield view.name, f"{location} {problem}; {_ADVICE}"
    for variable in sorted(view.sensitive_variables):
        if view.document["variable"][variable].get("default"):
            yield (
                view.name,
                f"variable.{variable}.default holds a literal value; give sensitive variables"
                " no default and set them at apply time (TF_VAR_...)",
            )
