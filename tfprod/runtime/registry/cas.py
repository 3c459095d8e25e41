"""Read-modify-write of a JSON document through the store's conditional writes."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from tfprod.runtime.registry.errors import (
    ConcurrentUpdateError,
    ObjectNotFoundError,
    PreconditionFailedError,
)
from tfprod.runtime.registry.store import ObjectStore

DEFAULT_ATTEMPTS = 200
_MAX_BACKOFF_SECONDS = 0.05


def encode(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, indent=1, allow_nan=False).encode()


def update_json(
    store: ObjectStore,
    key: str,
    change: Callable[[Any | None], Any],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Any:
    """Applies `change` to the document under `key` (None when it does not exist yet) and
    writes the result only if nobody wrote in between; on a lost race it reads again and
    re-applies `change`, so concurrent updates are serialized and none is lost. `change` must
    be a pure function of its argument. Returns the document written (or left unchanged)."""
    for attempt in range(attempts):
        try:
            current = store.get(key)
        except ObjectNotFoundError:
            document, token = None, None
        else:
            document, token = json.loads(current.data), current.token
        updated = change(document)
        if updated == document:
            return updated
        try:
            if token is None:
                store.put_if_absent(key, encode(updated))
            else:
                store.put_if_match(key, encode(updated), token)
        except PreconditionFailedError:
            # Jittered exponential backoff spreads out the writers that lost the race.
            time.sleep(random.uniform(0, min(_MAX_BACKOFF_SECONDS, 0.001 * 2**attempt)))
            continue
        return updated
    raise ConcurrentUpdateError(
        f"gave up updating {key!r} in {store.uri} after {attempts} attempts lost to "
        "concurrent writers"
    )
