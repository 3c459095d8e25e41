"""tfprod.bindings."""
