"""JSON over HTTP to the gateway and the controller API (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from tfprod.production.errors import ProductionError, RuntimeUnavailableError

TIMEOUT_SECONDS = 30.0


def call(
    method: str,
    url: str,
    *,
    body: object = None,
    token: str | None = None,
    what: str,
) -> tuple[Any, Mapping[str, str]]:
    """The JSON answer and headers of `method url`; `what` names the call in errors: a refused
    call raises ProductionError with the server's `{"error": ...}` message, an unreachable
    server RuntimeUnavailableError naming the URL."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return json.loads(answer.read() or b"null"), dict(answer.headers.items())
    except urllib.error.HTTPError as error:
        raise ProductionError(f"{what}: {error.code} {_message(error.read())}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise RuntimeUnavailableError(f"{what}: {url} did not answer ({reason})") from None


def _message(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:200]
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return str(document["error"])
    return json.dumps(document)[:200]
