"""What every Policy model shares: immutability and no unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


class PolicyModel(BaseModel):
    """Base of every Policy model: frozen, strict about keys.

    `hide_input_in_errors` keeps pydantic from echoing raw input into error text: a value
    given in the wrong field may be a secret. Our own messages show the value only where it
    is known not to be one. Attribute docstrings become descriptions in the JSON Schema.
    `defer_build` builds a model's validator on its first use, not at import: a command
    that reads one kind of document does not pay for the others.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
        defer_build=True,
    )


def invalid(message: str) -> PydanticCustomError:
    """An error for a validator to raise; pydantic reports `message` as is, with the field path."""
    return PydanticCustomError("invalid_policy", message)
