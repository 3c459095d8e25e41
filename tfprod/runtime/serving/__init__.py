"""The model server: a stand-in for `tensorflow_model_server` (TF Serving REST + gRPC)."""

from tfprod.runtime.serving.config import (
    DEFAULT_MAX_REQUEST_BYTES,
    ModelConfig,
    ServerConfig,
    ServingConfigError,
    VersionPolicy,
    parse_model_config_text,
)
from tfprod.runtime.serving.faults import INJECTED_EXIT_CODE, FaultPlan, FaultPlanError
from tfprod.runtime.serving.server import Endpoints, ModelServerHandle, serve, start_model_server

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "INJECTED_EXIT_CODE",
    "Endpoints",
    "FaultPlan",
    "FaultPlanError",
    "ModelConfig",
    "ModelServerHandle",
    "ServerConfig",
    "ServingConfigError",
    "VersionPolicy",
    "parse_model_config_text",
    "serve",
    "start_model_server",
]
