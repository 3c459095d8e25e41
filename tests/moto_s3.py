"""moto's S3 server, with S3's guarantee that a conditional write is atomic.

moto (5.x, `S3Response.put_object`) checks a PUT's `If-Match` or `If-None-Match` and then
writes, with other request threads free to run in between, so two writers holding the same
ETag can both succeed. S3 never lets that happen: one write wins, the other gets 412 (or 409
ConditionalRequestConflict). The registry's compare-and-swap (`tfprod.runtime.registry.cas`)
relies on that guarantee. That gap is the likely cause of the one update that
`test_concurrent_alias_updates_lose_none[s3]` lost on a loaded machine, though seven later
runs under load with stock moto lost none. Here every conditional write runs under one lock,
and all other requests stay concurrent.

    python tests/moto_s3.py --port N
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")
_WRITES = ("PUT", "POST")  # POST: CompleteMultipartUpload with If-None-Match

Application = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AtomicConditionalWrites:
    """WSGI middleware: conditional writes one at a time, each answered before the next."""

    def __init__(self, application: Application) -> None:
        self._application = application
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        conditional = environ["REQUEST_METHOD"] in _WRITES and any(
            header in environ for header in _CONDITIONS
        )
        if not conditional:
            return self._application(environ, start_response)
        with self._lock:
            return list(self._application(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    application = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        AtomicConditionalWrites(application),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
