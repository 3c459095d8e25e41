"""tfprod: a TensorFlow model's whole production life as infrastructure code."""

__version__ = "0.1.0"
