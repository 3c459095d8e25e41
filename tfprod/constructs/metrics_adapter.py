"""`MetricsAdapterRules`: what serves the requests-per-second metric the model servers' HPAs use.

An HPA with `AutoScaling(target_requests_per_second=...)` scales each version's Deployment on
the External metric `tfprod_requests_per_second`, selected by `model=<deployment>` and
`variant=<version id>`: the gateway's per-variant request rate (`tfprod_gateway_requests_total`,
which the gateway serves on its `/metrics` and the stack's ServiceMonitor scrapes), with target
type `AverageValue`, so the HPA divides it by the Deployment's ready pods and aims at the
target per replica. The model servers themselves (stock TF Serving) export no request counter.
A shadow version receives only mirrored requests, which the gateway counts apart
(`tfprod_gateway_shadow_requests_total`): its rate here is 0, so it scales on CPU alone.

The cluster's external metrics API is served by prometheus-adapter: the stack ships its rule (a
ConfigMap with key `config.yaml` in the adapter's config format, in the adapter's namespace)
and does not deploy the adapter. Why not: the adapter registers the cluster-wide APIService
`v1beta1.external.metrics.k8s.io` (and `custom.metrics`), of which a cluster has one; most
clusters running the Prometheus Operator already run one (kube-prometheus-stack), and a second
one from this stack would take the API away from it. Point the adapter at the rules: with the
prometheus-community Helm chart, `rules.existing=<the ConfigMap's name>` (or copy its
`externalRules` into the adapter's own rules). Without it the HPA still scales up on CPU but
never scales down (Kubernetes skips scale-down while any metric cannot be read).

`App` adds one per stack whose deployments scale on requests, unless the stack declares one.
"""

from __future__ import annotations

import json
from typing import Any, Final

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.config_map_v1 import ConfigMapV1
from tfprod.constructs._names import labels
from tfprod.constructs.errors import construct_error
from tfprod.constructs.platform import platform_of
from tfprod.policy.names import DNS_1123_LABEL_RULE, is_dns_label

REQUESTS_PER_SECOND_METRIC: Final = "tfprod_requests_per_second"
"""External metric the HPA scales on when `target_requests_per_second` is set."""
GATEWAY_REQUESTS_METRIC: Final = "tfprod_gateway_requests_total"
"""The gateway's request counter, by `model` (deployment) and `variant` (version id)."""
SELECTOR_LABELS: Final = ("model", "variant")
"""The gateway series' labels an HPA selects one version's traffic by."""
RATE_WINDOW: Final = "2m"
"""The window the request rate is taken over (four scrapes at the ServiceMonitor's 30 s)."""
RULES_KEY: Final = "config.yaml"
ADAPTER_NAMESPACE: Final = "monitoring"


def adapter_rules() -> dict[str, Any]:
    """prometheus-adapter's configuration holding the one rule serving
    `REQUESTS_PER_SECOND_METRIC` (the HPA's namespace selects the gateway series' `namespace`,
    its selector their `model` and `variant`)."""
    present = ",".join(f'{label}!=""' for label in ("namespace", *SELECTOR_LABELS))
    return {
        "externalRules": [
            {
                "seriesQuery": f"{GATEWAY_REQUESTS_METRIC}{{{present}}}",
                "resources": {"overrides": {"namespace": {"resource": "namespace"}}},
                "name": {
                    "matches": f"^{GATEWAY_REQUESTS_METRIC}$",
                    "as": REQUESTS_PER_SECOND_METRIC,
                },
                "metricsQuery": (
                    f"sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{RATE_WINDOW}])) by (<<.GroupBy>>)"
                ),
            }
        ]
    }


class MetricsAdapterRules(Construct):
    """The prometheus-adapter rules serving `tfprod_requests_per_second` (module docstring).

    Scope: a `ModelPlatformStack`, at most one per stack."""

    def __init__(
        self, scope: Construct, id: str = "metrics-adapter-rules", *,
        namespace: str = ADAPTER_NAMESPACE,
    ) -> None:  # fmt: skip
        """`namespace`: where the cluster's prometheus-adapter runs (it reads ConfigMaps of its
        own namespace). Default: "monitoring".

        The ConfigMap is `tfprod-adapter-rules-<stack namespace>`, so stacks of several
        namespaces in one cluster do not clash; their rules are identical, the adapter needs one.
        """
        super().__init__(scope, id)
        platform = platform_of(self)
        if not is_dns_label(namespace):
            raise construct_error(
                self, "namespace", f"{namespace!r} is not a DNS-1123 label", DNS_1123_LABEL_RULE
            )
        self.name = f"tfprod-adapter-rules-{platform.namespace}"
        """The ConfigMap's name, for the adapter's `rules.existing`."""
        self.namespace = namespace
        self.rules = adapter_rules()
        ConfigMapV1(
            self,
            "config-map",
            metadata={
                "name": self.name,
                "namespace": namespace,
                "labels": labels(name=self.name, instance=self.name, component="metrics-adapter"),
            },
            data={RULES_KEY: json.dumps(self.rules, indent=2, sort_keys=True) + "\n"},
            provider=platform.kubernetes_provider,
        )
