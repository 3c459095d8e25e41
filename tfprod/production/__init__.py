"""The proposal's Python API: `from tfprod import production`, then `production.deploy(...)`.

Every call of the proposal runs as written with `tf.production.` replaced by `production.`;
see docs/production.md for the semantics it leaves open (registration and versioning, which
deployment an object attaches to, where it runs, `export`).
"""

from tfprod.production.declared import AutoScaling
from tfprod.production.deployment import Deployment, Prediction, deploy, deployment
from tfprod.production.errors import (
    DeclaredByTerraformError,
    NoWinnerError,
    ProductionError,
    RuntimeUnavailableError,
)
from tfprod.production.experiments import ABTest, CanaryDeployment
from tfprod.production.export import export
from tfprod.production.monitoring import DriftDetector, ModelDebugger, ModelMonitor, SafetyNet
from tfprod.production.registry import ModelRegistry
from tfprod.production.session import configure, connect, shutdown
from tfprod.production.verbs import ABResults, Explanation, MetricResult

__all__ = [
    "ABResults",
    "ABTest",
    "AutoScaling",
    "CanaryDeployment",
    "DeclaredByTerraformError",
    "Deployment",
    "DriftDetector",
    "Explanation",
    "MetricResult",
    "ModelDebugger",
    "ModelMonitor",
    "ModelRegistry",
    "NoWinnerError",
    "Prediction",
    "ProductionError",
    "RuntimeUnavailableError",
    "SafetyNet",
    "configure",
    "connect",
    "deploy",
    "deployment",
    "export",
    "shutdown",
]
