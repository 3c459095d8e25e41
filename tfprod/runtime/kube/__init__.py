"""The controller's Kubernetes actuator: the status ConfigMap store and Lease leader election."""

from tfprod.runtime.kube.client import api_client
from tfprod.runtime.kube.election import LeaseElector, LeaseTiming, Term
from tfprod.runtime.kube.status_store import ConfigMapStatusStore, StatusStoreError, StoredStatus

__all__ = [
    "ConfigMapStatusStore",
    "LeaseElector",
    "LeaseTiming",
    "StatusStoreError",
    "StoredStatus",
    "Term",
    "api_client",
]
