"""tfprod.policy: the one contract between a deployment's declaration and its runtime.

Every name below loads from its module on first use (PEP 562): a command that only reads
synthesized files or names (`tfprod validate`, `tfprod review`) does not pay for pydantic
and the Policy models it never builds. `_HOMES` says where each name lives; type checkers
read the same names from the `TYPE_CHECKING` imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES: dict[str, tuple[str, ...]] = {
    "alerts": ("AlertRoutes", "SecretRef", "reject_secret"),
    "document": ("SCHEMA_VERSION", "Policy"),
    "errors": ("PolicyError",),
    "expressions": (
        "Condition",
        "is_metric_name",
        "parse_condition",
        "parse_criterion",
        "parse_duration",
        "parse_percent",
        "ramp_steps",
    ),
    "feedback": ("FeedbackSettings",),
    "files": (
        "CONFIGMAP_KEY",
        "ENDPOINTS_KEY",
        "POLICY_FILE_SUFFIX",
        "POLICY_MOUNT_DIR",
        "PROFILE_CONFIGMAP_LIMIT",
        "PROFILE_KEY",
        "configmap_name",
        "endpoints_configmap_name",
        "endpoints_json",
        "mounted_profile_uri",
        "parse_endpoints",
        "policy_file_name",
        "policy_json",
        "profile_configmap_name",
        "read_endpoints",
        "read_policy",
        "status_configmap_name",
    ),
    "names": (
        "DEPLOYMENT_LABEL",
        "DNS_1035_LABEL",
        "DNS_1035_LABEL_RULE",
        "DNS_1123_LABEL",
        "DNS_1123_LABEL_RULE",
        "DNS_1123_SUBDOMAIN",
        "DNS_1123_SUBDOMAIN_RULE",
        "MAX_NAME",
        "ROLE_LABEL",
        "dns_name",
        "is_dns_1035_label",
        "is_dns_label",
        "is_dns_subdomain",
    ),
    "observe": ("Debugger", "Drift", "Monitor"),
    "problems": ("Notation", "file_problem", "validation_lines"),
    "rollout": ("ABTest", "CanaryRamp", "RampStep", "ShadowTest", "SuccessMetric"),
    "rollout_state": (
        "MAX_DECISIONS",
        "CheckState",
        "DecisionRecord",
        "FeedbackTotals",
        "Phase",
        "RollbackState",
        "RolloutState",
        "Totals",
        "WindowPoint",
    ),
    "safety": ("Action", "ControllerSettings", "SafetyNet", "Trigger"),
    "status": (
        "STATUS_KEY",
        "DeploymentStatus",
        "next_status",
        "parse_status",
        "policy_digest",
        "read_status",
        "status_file_name",
        "status_json",
        "status_write_lock",
        "write_status",
    ),
    "synthesized": (
        "CONFIG_MAP_TYPES",
        "DECLARATION_ERRORS_VARIABLE",
        "MANIFEST",
        "Synthesized",
        "SynthesizedError",
        "SynthesizedStack",
        "deployed_stack",
        "read_synthesized",
    ),
    "timing": ("RollbackPath", "RollbackTiming", "rollback_timing"),
    "versions": (
        "ModelVersion",
        "Role",
        "StickyKey",
        "Traffic",
        "artifact_uri",
        "check_version_id",
        "split_artifact_uri",
        "weights_problem",
    ),
}
"""Module (under `tfprod.policy`) -> the public names it defines."""

_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:
    from tfprod.policy.alerts import (
        AlertRoutes as AlertRoutes,
        SecretRef as SecretRef,
        reject_secret as reject_secret,
    )
    from tfprod.policy.document import SCHEMA_VERSION as SCHEMA_VERSION, Policy as Policy
    from tfprod.policy.errors import PolicyError as PolicyError
    from tfprod.policy.expressions import (
        Condition as Condition,
        is_metric_name as is_metric_name,
        parse_condition as parse_condition,
        parse_criterion as parse_criterion,
        parse_duration as parse_duration,
        parse_percent as parse_percent,
        ramp_steps as ramp_steps,
    )
    from tfprod.policy.feedback import FeedbackSettings as FeedbackSettings
    from tfprod.policy.files import (
        CONFIGMAP_KEY as CONFIGMAP_KEY,
        ENDPOINTS_KEY as ENDPOINTS_KEY,
        POLICY_FILE_SUFFIX as POLICY_FILE_SUFFIX,
        POLICY_MOUNT_DIR as POLICY_MOUNT_DIR,
        PROFILE_CONFIGMAP_LIMIT as PROFILE_CONFIGMAP_LIMIT,
        PROFILE_KEY as PROFILE_KEY,
        configmap_name as configmap_name,
        endpoints_configmap_name as endpoints_configmap_name,
        endpoints_json as endpoints_json,
        mounted_profile_uri as mounted_profile_uri,
        parse_endpoints as parse_endpoints,
        policy_file_name as policy_file_name,
        policy_json as policy_json,
        profile_configmap_name as profile_configmap_name,
        read_endpoints as read_endpoints,
        read_policy as read_policy,
        status_configmap_name as status_configmap_name,
    )
    from tfprod.policy.names import (
        DEPLOYMENT_LABEL as DEPLOYMENT_LABEL,
        DNS_1035_LABEL as DNS_1035_LABEL,
        DNS_1035_LABEL_RULE as DNS_1035_LABEL_RULE,
        DNS_1123_LABEL as DNS_1123_LABEL,
        DNS_1123_LABEL_RULE as DNS_1123_LABEL_RULE,
        DNS_1123_SUBDOMAIN as DNS_1123_SUBDOMAIN,
        DNS_1123_SUBDOMAIN_RULE as DNS_1123_SUBDOMAIN_RULE,
        MAX_NAME as MAX_NAME,
        ROLE_LABEL as ROLE_LABEL,
        dns_name as dns_name,
        is_dns_1035_label as is_dns_1035_label,
        is_dns_label as is_dns_label,
        is_dns_subdomain as is_dns_subdomain,
    )
    from tfprod.policy.observe import Debugger as Debugger, Drift as Drift, Monitor as Monitor
    from tfprod.policy.problems import (
        Notation as Notation,
        file_problem as file_problem,
        validation_lines as validation_lines,
    )
    from tfprod.policy.rollout import (
        ABTest as ABTest,
        CanaryRamp as CanaryRamp,
        RampStep as RampStep,
        ShadowTest as ShadowTest,
        SuccessMetric as SuccessMetric,
    )
    from tfprod.policy.rollout_state import (
        MAX_DECISIONS as MAX_DECISIONS,
        CheckState as CheckState,
        DecisionRecord as DecisionRecord,
        FeedbackTotals as FeedbackTotals,
        Phase as Phase,
        RollbackState as RollbackState,
        RolloutState as RolloutState,
        Totals as Totals,
        WindowPoint as WindowPoint,
    )
    from tfprod.policy.safety import (
        Action as Action,
        ControllerSettings as ControllerSettings,
        SafetyNet as SafetyNet,
        Trigger as Trigger,
    )
    from tfprod.policy.status import (
        STATUS_KEY as STATUS_KEY,
        DeploymentStatus as DeploymentStatus,
        next_status as next_status,
        parse_status as parse_status,
        policy_digest as policy_digest,
        read_status as read_status,
        status_file_name as status_file_name,
        status_json as status_json,
        status_write_lock as status_write_lock,
        write_status as write_status,
    )
    from tfprod.policy.synthesized import (
        CONFIG_MAP_TYPES as CONFIG_MAP_TYPES,
        DECLARATION_ERRORS_VARIABLE as DECLARATION_ERRORS_VARIABLE,
        MANIFEST as MANIFEST,
        Synthesized as Synthesized,
        SynthesizedError as SynthesizedError,
        SynthesizedStack as SynthesizedStack,
        deployed_stack as deployed_stack,
        read_synthesized as read_synthesized,
    )
    from tfprod.policy.timing import (
        RollbackPath as RollbackPath,
        RollbackTiming as RollbackTiming,
        rollback_timing as rollback_timing,
    )
    from tfprod.policy.versions import (
        ModelVersion as ModelVersion,
        Role as Role,
        StickyKey as StickyKey,
        Traffic as Traffic,
        artifact_uri as artifact_uri,
        check_version_id as check_version_id,
        split_artifact_uri as split_artifact_uri,
        weights_problem as weights_problem,
    )

__all__ = [
    "CONFIGMAP_KEY",
    "CONFIG_MAP_TYPES",
    "DECLARATION_ERRORS_VARIABLE",
    "DEPLOYMENT_LABEL",
    "DNS_1035_LABEL",
    "DNS_1035_LABEL_RULE",
    "DNS_1123_LABEL",
    "DNS_1123_LABEL_RULE",
    "DNS_1123_SUBDOMAIN",
    "DNS_1123_SUBDOMAIN_RULE",
    "ENDPOINTS_KEY",
    "MANIFEST",
    "MAX_DECISIONS",
    "MAX_NAME",
    "POLICY_FILE_SUFFIX",
    "POLICY_MOUNT_DIR",
    "PROFILE_CONFIGMAP_LIMIT",
    "PROFILE_KEY",
    "ROLE_LABEL",
    "SCHEMA_VERSION",
    "STATUS_KEY",
    "ABTest",
    "Action",
    "AlertRoutes",
    "CanaryRamp",
    "CheckState",
    "Condition",
    "ControllerSettings",
    "Debugger",
    "DecisionRecord",
    "DeploymentStatus",
    "Drift",
    "FeedbackSettings",
    "FeedbackTotals",
    "ModelVersion",
    "Monitor",
    "Notation",
    "Phase",
    "Policy",
    "PolicyError",
    "RampStep",
    "Role",
    "RollbackPath",
    "RollbackState",
    "RollbackTiming",
    "RolloutState",
    "SafetyNet",
    "SecretRef",
    "ShadowTest",
    "StickyKey",
    "SuccessMetric",
    "Synthesized",
    "SynthesizedError",
    "SynthesizedStack",
    "Totals",
    "Traffic",
    "Trigger",
    "WindowPoint",
    "artifact_uri",
    "check_version_id",
    "configmap_name",
    "deployed_stack",
    "dns_name",
    "endpoints_configmap_name",
    "endpoints_json",
    "file_problem",
    "is_dns_1035_label",
    "is_dns_label",
    "is_dns_subdomain",
    "is_metric_name",
    "mounted_profile_uri",
    "next_status",
    "parse_condition",
    "parse_criterion",
    "parse_duration",
    "parse_endpoints",
    "parse_percent",
    "parse_status",
    "policy_digest",
    "policy_file_name",
    "policy_json",
    "profile_configmap_name",
    "ramp_steps",
    "read_endpoints",
    "read_policy",
    "read_status",
    "read_synthesized",
    "reject_secret",
    "rollback_timing",
    "split_artifact_uri",
    "status_configmap_name",
    "status_file_name",
    "status_json",
    "status_write_lock",
    "validation_lines",
    "weights_problem",
    "write_status",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
