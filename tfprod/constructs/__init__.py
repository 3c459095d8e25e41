"""tfprod.constructs: what a team declares about a model's production life (L3 constructs).

Everything a stack needs comes from here: the constructs, `App`, the stacks' base
`ModelPlatformStack`, and `Construct` (the scope type of every construct, from the `constructs`
library cdktn builds on) for typing functions that build stacks.
"""

from tfprod.bindings._core import Construct
from tfprod.constructs.alert_secrets import AlertSecrets, alert_secret_refs, alert_variable_name
from tfprod.constructs.app import App
from tfprod.constructs.deployment import SERVING_IMAGE, TFPROD_IMAGE, ModelDeployment
from tfprod.constructs.errors import ConstructError, SynthError, construct_error
from tfprod.constructs.experiments import ABTest, CanaryDeployment, ShadowTest
from tfprod.constructs.metrics_adapter import MetricsAdapterRules, adapter_rules
from tfprod.constructs.network import NetworkBoundaries, PeerSelector, gateway_only_ingress
from tfprod.constructs.observability import (
    DriftDetector,
    Explainer,
    ModelDebugger,
    ModelMonitor,
    explainer_image,
)
from tfprod.constructs.platform import ModelPlatformStack, ProjectImage, platform_of
from tfprod.constructs.registry import ModelRef, ModelRegistry
from tfprod.constructs.runtime import Gateway, PolicyConfigMap, RuntimeController, RuntimeSecrets
from tfprod.constructs.safety import SafetyNet
from tfprod.constructs.serving import AutoScaling, ServingResources, ServingVersion

__all__ = [
    "SERVING_IMAGE",
    "TFPROD_IMAGE",
    "ABTest",
    "AlertSecrets",
    "App",
    "AutoScaling",
    "CanaryDeployment",
    "Construct",
    "ConstructError",
    "DriftDetector",
    "Explainer",
    "Gateway",
    "MetricsAdapterRules",
    "ModelDebugger",
    "ModelDeployment",
    "ModelMonitor",
    "ModelPlatformStack",
    "ModelRef",
    "ModelRegistry",
    "NetworkBoundaries",
    "PeerSelector",
    "PolicyConfigMap",
    "ProjectImage",
    "RuntimeController",
    "RuntimeSecrets",
    "SafetyNet",
    "ServingResources",
    "ServingVersion",
    "ShadowTest",
    "SynthError",
    "adapter_rules",
    "alert_secret_refs",
    "alert_variable_name",
    "construct_error",
    "explainer_image",
    "gateway_only_ingress",
    "platform_of",
]
