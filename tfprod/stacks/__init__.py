"""tfprod.stacks."""
