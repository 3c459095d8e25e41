"""Card-fraud scoring: tight latency budgets, fast rollback, explanations for every decline."""

from examples.fraud_detection.stack import TEAM, build

__all__ = ["TEAM", "build"]
