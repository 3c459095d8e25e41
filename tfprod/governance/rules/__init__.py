"""Governance rules, one pure rule per module (`tfpNNN_<what>.py`); `registry` finds them."""
