"""tfprod.constructs."""
