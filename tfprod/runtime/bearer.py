"""Bearer-token checks shared by the runtime's token-protected HTTP APIs (gateway admin,
controller).

A request needs `Authorization: Bearer <token>`: none gives 401 with a `WWW-Authenticate`
challenge, a wrong one 403 (compared in constant time), and without a configured token every
request is refused with 403. Bodies are TF Serving's `{"error": ...}`; the token itself never
appears in them.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

_PREFIX = "Bearer "

Handler = Callable[[web.Request], Awaitable[web.Response]]


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON error in TF Serving's shape: `{"error": message}`."""
    return web.json_response({"error": message}, status=status, headers=headers)


def refusal(
    request: web.Request, token: bytes | None, *, name: str, realm: str, disabled: str
) -> web.Response | None:
    """The 401/403 answer to `request`, or None when it carries `token`.

    `name` names the API in messages ("admin": "admin API needs ...", "admin token
    rejected"), `realm` goes in the challenge, `disabled`
    is the 403 message when no token is configured.
    """
    if token is None:
        return error_response(403, disabled)
    given = request.headers.get("Authorization", "")
    if not given.startswith(_PREFIX):
        return error_response(
            401,
            f"{name} API needs an 'Authorization: Bearer <token>' header",
            {"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )
    if not hmac.compare_digest(given[len(_PREFIX) :].encode(), token):
        return error_response(403, f"{name} token rejected")
    return None


def guarded(
    handler: Handler, token: bytes | None, *, name: str, realm: str, disabled: str
) -> Handler:
    """`handler` behind the token check of `refusal`."""

    async def guard(request: web.Request) -> web.Response:
        refused = refusal(request, token, name=name, realm=realm, disabled=disabled)
        return refused or await handler(request)

    return guard
