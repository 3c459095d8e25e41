"""Recording governance suppressions and settings on constructs; the rules: `tfprod.governance`."""

from tfprod.constructs.governance.annotate import (
    SUPPRESS_METADATA,
    configure_governance,
    suppress,
)

__all__ = [
    "SUPPRESS_METADATA",
    "configure_governance",
    "suppress",
]
