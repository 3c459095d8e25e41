"""The local platform behind `tfprod up` and `make demo`: the embedded default."""
