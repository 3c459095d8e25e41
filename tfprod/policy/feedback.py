"""How the gateway attributes business outcomes (`POST /v1/feedback`) to versions."""

from __future__ import annotations

from tfprod.policy._base import PolicyModel


class FeedbackSettings(PolicyModel):
    """Which request ids feedback may name.

    The gateway answers every request with a request id it signed (HMAC) and that names the
    version which answered, so any gateway replica holding the same key attributes feedback to
    that version, and a forged id is refused.
    """

    client_request_ids: bool = False
    """Also accept the request ids callers chose themselves (their own `X-Request-Id`), as
    gateways did before ids were signed. Such an id is joined to its version in the memory of
    the replica that answered it, for its last `feedback_window` requests only: with several
    replicas, feedback that reaches another replica is counted unmatched, and anyone who knows
    a caller's id can send feedback for it. Default: off, only signed ids count."""
