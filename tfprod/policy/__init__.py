"""tfprod.policy."""
