"""`NetworkBoundaries`: which pods may reach the model servers, the gateway and the controller.

Three NetworkPolicies (networking.k8s.io/v1, ingress only) in the stack's namespace, selecting
pods by the `app.kubernetes.io/component` and `part-of: tfprod` labels the constructs set:

- `tfprod-model-servers`: model server pods accept TF Serving's gRPC (8500) and REST (8501)
  ports from gateway pods only;
- `tfprod-gateway`: gateway pods accept the public port (8080: TF Serving's API and feedback)
  from anywhere, and the admin port (9090: admin API and /metrics) from the controller and from
  Prometheus only;
- `tfprod-controller`: controller pods accept their API port (8081, which also serves its
  /metrics) from gateway pods, the dashboard and Prometheus only.

A stack with a ModelDebugger gets a fourth, from its `Explainer` (`gateway_only_ingress`):

- `tfprod-explainer`: explainer pods accept their port (8082: explain calls and captured
  samples) from gateway pods only.

Prometheus and the dashboard run outside the namespace, so each is a `PeerSelector` (namespace
labels and pod labels, both must match). Defaults: Prometheus pods labelled
`app.kubernetes.io/name: prometheus` (the Prometheus Operator's) and the dashboard's
`app.kubernetes.io/name: grafana`, both in namespace `monitoring` (selected by its
`kubernetes.io/metadata.name` label, which Kubernetes sets on every namespace).

Kubelet probes and `kubectl port-forward` do not pass through NetworkPolicies on common CNIs;
a cluster without a NetworkPolicy-enforcing CNI ignores them.

`App` adds one per stack, unless the stack declares one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.network_policy_v1 import NetworkPolicyV1
from tfprod.constructs._names import PART_OF, labels
from tfprod.constructs.platform import platform_of
from tfprod.constructs.runtime import CONTROLLER_PORT, GATEWAY_ADMIN_PORT, GATEWAY_PORT
from tfprod.constructs.serving import GRPC_PORT, REST_PORT

NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"


@dataclass(frozen=True, kw_only=True)
class PeerSelector:
    """Pods of another namespace: both label sets must match."""

    namespace_labels: Mapping[str, str] = field(
        default_factory=lambda: {NAMESPACE_NAME_LABEL: "monitoring"}
    )
    """Labels of the namespace. Default: the namespace named "monitoring"."""
    pod_labels: Mapping[str, str]
    """Labels of the pods, e.g. {"app.kubernetes.io/name": "prometheus"}."""

    def peer(self) -> dict[str, Any]:
        return {
            "namespace_selector": {"match_labels": dict(self.namespace_labels)},
            "pod_selector": {"match_labels": dict(self.pod_labels)},
        }


PROMETHEUS: Final = PeerSelector(pod_labels={"app.kubernetes.io/name": "prometheus"})
DASHBOARD: Final = PeerSelector(pod_labels={"app.kubernetes.io/name": "grafana"})


def _component_selector(component: str) -> dict[str, str]:
    """The labels selecting tfprod's pods of `component` (model-server, gateway, controller)."""
    return {"app.kubernetes.io/component": component, "app.kubernetes.io/part-of": PART_OF}


def _tcp(*ports: int) -> list[dict[str, str]]:
    return [{"port": str(port), "protocol": "TCP"} for port in ports]


def _pods(component: str) -> dict[str, Any]:
    return {"pod_selector": {"match_labels": _component_selector(component)}}


class NetworkBoundaries(Construct):
    """The stack's NetworkPolicies (module docstring).

    Scope: a `ModelPlatformStack`, at most one per stack."""

    def __init__(
        self,
        scope: Construct,
        id: str = "network-boundaries",
        *,
        prometheus: PeerSelector = PROMETHEUS,
        dashboard: PeerSelector = DASHBOARD,
    ) -> None:
        """- `prometheus`: the Prometheus pods scraping the gateway and the controller. Default:
          `app.kubernetes.io/name: prometheus` pods in namespace "monitoring".
        - `dashboard`: the dashboard pods reading the controller's API. Default:
          `app.kubernetes.io/name: grafana` pods in namespace "monitoring".
        """
        super().__init__(scope, id)
        platform = platform_of(self)
        self.prometheus = prometheus
        self.dashboard = dashboard
        self.policies: dict[str, dict[str, Any]] = {
            "tfprod-model-servers": self._spec(
                "model-server", [(_tcp(GRPC_PORT, REST_PORT), [_pods("gateway")])]
            ),
            "tfprod-gateway": self._spec(
                "gateway",
                [
                    (_tcp(GATEWAY_PORT), []),
                    (_tcp(GATEWAY_ADMIN_PORT), [_pods("controller"), prometheus.peer()]),
                ],
            ),
            "tfprod-controller": self._spec(
                "controller",
                [(_tcp(CONTROLLER_PORT), [_pods("gateway"), dashboard.peer(), prometheus.peer()])],
            ),
        }
        """Each NetworkPolicy's spec, by name."""
        for name, spec in self.policies.items():
            NetworkPolicyV1(
                self,
                name,
                metadata={
                    "name": name,
                    "namespace": platform.namespace,
                    "labels": labels(name=name, instance=name, component="network-policy"),
                },
                spec=spec,
                provider=platform.kubernetes_provider,
            )

    @staticmethod
    def _spec(
        component: str, rules: Sequence[tuple[list[dict[str, str]], list[dict[str, Any]]]]
    ) -> dict[str, Any]:
        """Ingress to `component`'s pods: each rule's ports from its peers (none: anyone)."""
        return {
            "pod_selector": {"match_labels": _component_selector(component)},
            "policy_types": ["Ingress"],
            "ingress": [
                {"ports": ports, **({"from_": peers} if peers else {})} for ports, peers in rules
            ],
        }


def gateway_only_ingress(scope: Construct, name: str, *, component: str, port: int) -> None:
    """A NetworkPolicy `name`: `component`'s pods accept `port` from gateway pods only."""
    platform = platform_of(scope)
    NetworkPolicyV1(
        scope,
        name,
        metadata={
            "name": name,
            "namespace": platform.namespace,
            "labels": labels(name=name, instance=name, component="network-policy"),
        },
        spec=NetworkBoundaries._spec(component, [(_tcp(port), [_pods("gateway")])]),
        provider=platform.kubernetes_provider,
    )
