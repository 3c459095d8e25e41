"""The local platform behind `tfprod up` and `make demo`: the embedded default."""

from tfprod.runtime.local.lock import WorkdirInUseError
from tfprod.runtime.local.platform import LocalPlatform, PlatformOptions
from tfprod.runtime.local.ports import PortInUseError, free_port
from tfprod.runtime.local.processes import ProcessState, RestartPolicy, StartError
from tfprod.runtime.local.synthesized import SynthesizedError, stack_policies

__all__ = [
    "LocalPlatform",
    "PlatformOptions",
    "PortInUseError",
    "ProcessState",
    "RestartPolicy",
    "StartError",
    "SynthesizedError",
    "WorkdirInUseError",
    "free_port",
    "stack_policies",
]
