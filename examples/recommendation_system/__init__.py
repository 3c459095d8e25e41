"""The proposal's own example: a recommendation engine, tested, ramped, watched and guarded."""

from examples.recommendation_system.stack import TEAM, build

__all__ = ["TEAM", "build"]
