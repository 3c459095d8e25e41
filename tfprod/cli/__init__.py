"""The `tfprod` command line: the one place that wires every part of tfprod together."""

from tfprod.cli._app import UsageError, main

__all__ = ["UsageError", "main"]
