"""tfprod.policy: the one contract between a deployment's declaration and its runtime."""

from tfprod.policy._base import PolicyError
from tfprod.policy.document import SCHEMA_VERSION, Policy
from tfprod.policy.versions import ModelVersion, Role, StickyKey, Traffic

__all__ = [
    "SCHEMA_VERSION",
    "ModelVersion",
    "Policy",
    "PolicyError",
    "Role",
    "StickyKey",
    "Traffic",
]
