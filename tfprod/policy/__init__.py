"""tfprod.policy: the one contract between a deployment's declaration and its runtime."""

from tfprod.policy._base import PolicyError
from tfprod.policy.alerts import AlertRoutes, SecretRef
from tfprod.policy.document import SCHEMA_VERSION, Policy
from tfprod.policy.expressions import (
    Condition,
    parse_condition,
    parse_criterion,
    parse_duration,
    ramp_steps,
)
from tfprod.policy.files import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    POLICY_MOUNT_DIR,
    configmap_name,
    endpoints_configmap_name,
    policy_file_name,
    policy_json,
    read_policy,
    status_configmap_name,
)
from tfprod.policy.labels import DEPLOYMENT_LABEL
from tfprod.policy.observe import Debugger, Drift, Monitor
from tfprod.policy.rollout import ABTest, CanaryRamp, RampStep, ShadowTest, SuccessMetric
from tfprod.policy.safety import Action, ControllerSettings, SafetyNet, Trigger
from tfprod.policy.timing import RollbackPath, RollbackTiming, rollback_timing
from tfprod.policy.versions import (
    ModelVersion,
    Role,
    StickyKey,
    Traffic,
    artifact_uri,
    split_artifact_uri,
)

__all__ = [
    "CONFIGMAP_KEY",
    "DEPLOYMENT_LABEL",
    "ENDPOINTS_KEY",
    "POLICY_MOUNT_DIR",
    "SCHEMA_VERSION",
    "ABTest",
    "Action",
    "AlertRoutes",
    "CanaryRamp",
    "Condition",
    "ControllerSettings",
    "Debugger",
    "Drift",
    "ModelVersion",
    "Monitor",
    "Policy",
    "PolicyError",
    "RampStep",
    "Role",
    "RollbackPath",
    "RollbackTiming",
    "SafetyNet",
    "SecretRef",
    "ShadowTest",
    "StickyKey",
    "SuccessMetric",
    "Traffic",
    "Trigger",
    "artifact_uri",
    "configmap_name",
    "endpoints_configmap_name",
    "parse_condition",
    "parse_criterion",
    "parse_duration",
    "policy_file_name",
    "policy_json",
    "ramp_steps",
    "read_policy",
    "rollback_timing",
    "split_artifact_uri",
    "status_configmap_name",
]
