"""The local platform behind `tfprod up` and `make demo`: the embedded default."""

from tfprod.runtime.local.lock import WorkdirInUseError, workdir_lock
from tfprod.runtime.local.platform import LocalPlatform, PlatformOptions
from tfprod.runtime.local.ports import PortInUseError, ensure_port_free, free_port
from tfprod.runtime.local.processes import (
    ProcessGroup,
    ProcessState,
    RestartPolicy,
    RunningService,
    ServiceSpec,
    StartError,
)
from tfprod.runtime.local.synthesized import SynthesizedError, stack_policies, stack_profiles

__all__ = [
    "LocalPlatform",
    "PlatformOptions",
    "PortInUseError",
    "ProcessGroup",
    "ProcessState",
    "RestartPolicy",
    "RunningService",
    "ServiceSpec",
    "StartError",
    "SynthesizedError",
    "WorkdirInUseError",
    "ensure_port_free",
    "free_port",
    "stack_policies",
    "stack_profiles",
    "workdir_lock",
]
