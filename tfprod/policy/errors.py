"""The one error type of `tfprod.policy`, in a module of its own so that raising or catching it
loads neither pydantic nor the Policy models."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy value is wrong; the message shows the value, where, and what is allowed."""
