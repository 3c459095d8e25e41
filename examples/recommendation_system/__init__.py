"""The proposal's own example: a recommendation engine, tested, ramped, watched and guarded."""

from examples.recommendation_system.stack import TEAM, build, declare_engine

__all__ = ["TEAM", "build", "declare_engine"]
