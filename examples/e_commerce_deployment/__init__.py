"""An online shop's models: search ranking, basket recommendations and demand forecasting."""

from examples.e_commerce_deployment.stack import TEAM, build

__all__ = ["TEAM", "build"]
