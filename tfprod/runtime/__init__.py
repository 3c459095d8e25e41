"""tfprod.runtime."""
