"""`AlertSecrets`: the Kubernetes Secrets the deployments' AlertmanagerConfigs reference.

An AlertmanagerConfig names its Slack webhook URL and PagerDuty routing key as Secret key
references (by default Secret `tfprod-alerts`, keys `slack-webhook-url` and
`pagerduty-routing-key`; see `AlertRoutes`). The Prometheus Operator reads them from the
deployment's namespace, so they must exist there. As `RuntimeSecrets` does for the admin token
and feedback key: by default the stack declares each referenced Secret, one key per sensitive
Terraform variable `tfprod_alert_<secret>_<key>` ('-' and '.' become '_'; set at apply time as
`TF_VAR_...`); a team that manages a Secret itself lists its name in `existing`, and the stack
then declares nothing for it. Only keys some AlertmanagerConfig references are declared; never
a literal in the synthesized JSON.

`App` adds one per stack with alert routes, unless the stack declares one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tfprod.bindings._core import Construct, TerraformVariable
from tfprod.bindings.kubernetes.secret_v1 import SecretV1
from tfprod.constructs._names import labels
from tfprod.constructs.errors import construct_error
from tfprod.constructs.platform import platform_of
from tfprod.policy import SecretRef
from tfprod.policy.names import DNS_1123_SUBDOMAIN_RULE, is_dns_subdomain


def alert_variable_name(secret: SecretRef) -> str:
    """The sensitive variable holding `secret`'s key: `tfprod_alert_<name>_<key>`."""
    return re.sub(r"[-.]", "_", f"tfprod_alert_{secret.name}_{secret.key}")


def alert_secret_refs(spec: Any) -> Iterator[SecretRef]:
    """Every Secret key reference (`{"name": ..., "key": ...}`) in an AlertmanagerConfig spec."""
    if isinstance(spec, dict):
        if set(spec) == {"name", "key"}:
            yield SecretRef(name=spec["name"], key=spec["key"])
            return
        for value in spec.values():
            yield from alert_secret_refs(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from alert_secret_refs(item)


class AlertSecrets(Construct):
    """Where the alert receivers' Secrets come from (module docstring).

    Scope: a `ModelPlatformStack`, at most one per stack."""

    def __init__(
        self, scope: Construct, id: str = "alert-secrets", *, existing: Sequence[str] = ()
    ) -> None:
        """`existing`: names of Secrets the team creates itself (in the stack's namespace, with
        the keys the alert routes name). Default: none, the stack declares every referenced
        Secret from sensitive variables."""
        super().__init__(scope, id)
        self.platform = platform_of(self)
        if isinstance(existing, str):
            raise construct_error(
                self, "existing", f"{existing!r} is one string, not a list of names",
                f"a list of Secret names, e.g. [{existing!r}]",
            )  # fmt: skip
        for name in existing:
            if not is_dns_subdomain(name):
                raise construct_error(
                    self, "existing", f"{name!r} is not a Secret name", DNS_1123_SUBDOMAIN_RULE
                )
        self.existing = frozenset(existing)
        self.declared: dict[str, tuple[str, ...]] = {}
        """Declared Secrets: name -> keys (filled by `declare`)."""

    def declare(self, references: Iterable[SecretRef]) -> None:
        """Declare the Secrets of `references` not in `existing` (`App` calls it once)."""
        keys: dict[str, set[str]] = {}
        for ref in references:
            if ref.name not in self.existing:
                keys.setdefault(ref.name, set()).add(ref.key)
        for name in sorted(keys):
            data = {}
            for key in sorted(keys[name]):
                ref = SecretRef(name=name, key=key)
                variable = TerraformVariable(
                    self, f"{name}-{key}-variable", type="string", sensitive=True,
                    description=(
                        f"Key {key!r} of Secret {name!r}, read by the deployments' alert"
                        f" receivers. Set it at apply time (TF_VAR_{alert_variable_name(ref)})."
                    ),
                )  # fmt: skip
                variable.override_logical_id(alert_variable_name(ref))
                data[key] = variable.string_value
            SecretV1(
                self,
                name,
                metadata={
                    "name": name,
                    "namespace": self.platform.namespace,
                    "labels": labels(name=name, instance=name, component="alert-secret"),
                },
                data=data,
                provider=self.platform.kubernetes_provider,
            )
            self.declared[name] = tuple(sorted(keys[name]))
