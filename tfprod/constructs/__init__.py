"""tfprod.constructs: what a team declares about a model's production life (L3 constructs)."""

from tfprod.constructs.errors import ConstructError, SynthError
from tfprod.constructs.platform import ModelPlatformStack, platform_of
from tfprod.constructs.registry import ModelRef, ModelRegistry

__all__ = [
    "ConstructError",
    "ModelPlatformStack",
    "ModelRef",
    "ModelRegistry",
    "SynthError",
    "platform_of",
]
