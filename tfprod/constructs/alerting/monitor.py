"""The ServiceMonitor that has the Prometheus operator scrape the gateway (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

SCRAPE_INTERVAL: Final = "15s"


def service_monitor(
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    selector: Mapping[str, str],
    port: str,
    path: str = "/metrics",
    interval: str = SCRAPE_INTERVAL,
    honor_labels: bool = False,
) -> dict[str, Any]:
    """A monitoring.coreos.com/v1 ServiceMonitor for the Service in `namespace` matching `selector`.

    `port` is the Service's port name. Prometheus adds the `namespace` label the rules select on.
    `honor_labels`: keep the scraped series' own `namespace` label (the controller's
    `tfprod_drift_score` names the deployment's) instead of renaming it `exported_namespace`.
    Default: False.
    """
    endpoint: dict[str, Any] = {"port": port, "path": path, "interval": interval}
    if honor_labels:
        endpoint["honorLabels"] = True
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [endpoint],
        },
    }
