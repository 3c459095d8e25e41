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
) -> dict[str, Any]:
    """A monitoring.coreos.com/v1 ServiceMonitor for the Service in `namespace` matching `selector`.

    `port` is the Service's port name. Prometheus adds the `namespace` label the rules select on.
    """
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": port, "path": path, "interval": interval}],
        },
    }
