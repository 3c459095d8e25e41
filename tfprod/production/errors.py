"""What `tfprod.production` raises: one message naming the argument and the allowed values."""

from __future__ import annotations


class ProductionError(ValueError):
    """A call of `tfprod.production` that cannot be done as written; the message says why."""


def argument_error(call: str, argument: str, problem: str, allowed: str) -> ProductionError:
    """`<call>: <argument> <problem>; allowed: <allowed>`."""
    return ProductionError(f"{call}: {argument} {problem}; allowed: {allowed}")


class NoWinnerError(ProductionError):
    """`promote_winner()` while the A/B test has no winner yet."""


class DeclaredByTerraformError(ProductionError):
    """A declaring call made while connected to a cluster, where Terraform owns what is declared."""


class RuntimeUnavailableError(ProductionError):
    """The platform (local or the cluster's) did not answer; the message names the URL."""
