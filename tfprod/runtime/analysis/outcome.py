"""The four outcomes every metric check has, shared with the controller."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    """What one check of one criterion found.

    - PASS: the criterion holds.
    - FAIL: the criterion is broken, and (for a canary) shown worse than stable.
    - INCONCLUSIVE: too few samples, or not yet enough evidence either way: holds a rollout.
    - ERROR: the input was unusable (negative or NaN counts, a counter reset, a bad shape).
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
