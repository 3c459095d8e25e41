"""The Kubernetes API client the controller's actuator uses (the `kubernetes` package, sync).

Sync, not `kubernetes.aio`: the sync `kubernetes.leaderelection` LeaseLock works while the aio
one was seen broken (DESIGN.md), so one sync client serves both the status store and the
election. Its calls are a few per controller tick; an async caller runs them in a thread
(`asyncio.to_thread`) rather than blocking its loop.
"""

from __future__ import annotations

from kubernetes.client import ApiClient, Configuration
from kubernetes.config import ConfigException, load_incluster_config

__all__ = ["api_client"]


def api_client(
    *, host: str | None = None, token: str | None = None, ca_file: str | None = None
) -> ApiClient:
    """A client for the API server at `host` with bearer `token`, checking TLS against
    `ca_file` (default: the system's CAs). Without `host`, the pod's service account (the
    in-cluster token, CA and `KUBERNETES_SERVICE_HOST`)."""
    configuration = Configuration()
    if host is None:
        try:
            load_incluster_config(client_configuration=configuration)
        except ConfigException as error:
            raise ValueError(
                f"no in-cluster service account ({error}): give the API server's host and token"
            ) from None
    else:
        if not token:
            raise ValueError(f"a Kubernetes API token is required with host {host!r}")
        configuration.host = host
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        configuration.ssl_ca_cert = ca_file
    return ApiClient(configuration)
