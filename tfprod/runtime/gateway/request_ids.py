"""Signed request ids: each names the model and variant that answered, and when.

`<model>/<variant>/<issued>-<nonce>[~<owner>].<mac>`: model and variant percent-encoded (so
neither holds a `/`), `issued` the Unix second in hex, `nonce` unique per process (a random
prefix and a counter), `owner` (when the replica has an address its peers reach, see
`feedback_relay`) that base URL in base64url, `mac` the first 16 bytes of HMAC-SHA256 over
everything before the dot, base64url without padding. Any gateway replica holding the same key
reads the variant off the id itself, so feedback needs no shared join window; without the key
an id cannot be made or altered. The same key also tags the messages replicas exchange about an
id (`tag`, `tagged`), with a purpose in the tagged text so that no tag stands for another.

The key comes from a mounted Secret or file (`tfprod gateway --feedback-key-file PATH`);
without one each process draws a random key, and feedback then matches only ids that this
replica issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

MIN_KEY_BYTES = 32
_MAC_BYTES = 16


class FeedbackKeyError(ValueError):
    """The feedback key file cannot be used; the message names the file and why."""


@dataclass(frozen=True, kw_only=True)
class SignedId:
    """What a verified id says: who answered, and when (Unix seconds)."""

    model: str
    variant: str
    issued: int
    owner: str | None
    """The base URL of the replica that issued the id, if it had one."""


def read_key(path: Path) -> bytes:
    """The key in `path` (surrounding whitespace stripped), at least `MIN_KEY_BYTES` long."""
    try:
        key = path.read_bytes().strip()
    except OSError as error:
        raise FeedbackKeyError(
            f"--feedback-key-file: cannot read {path}: {error.strerror}"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise FeedbackKeyError(
            f"--feedback-key-file: {path} holds {len(key)} bytes; a key needs at least"
            f" {MIN_KEY_BYTES} (for example `head -c 32 /dev/urandom | base64`)"
        )
    return key


def random_key() -> bytes:
    return os.urandom(MIN_KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RequestIds:
    """Issues and verifies signed request ids with one key; `owner` is this replica's base URL
    as its peers reach it (None: ids name no owner)."""

    def __init__(self, key: bytes, owner: str | None = None) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._prefix = os.urandom(4).hex()
        self._counter = 0
        self._names: dict[tuple[str, str], str] = {}
        self.owner = owner
        self._owner_suffix = "" if owner is None else f"~{_b64(owner.encode())}"

    def _mac(self, payload: str) -> str:
        mac = self._keyed.copy()  # the key is hashed once, not per id
        mac.update(payload.encode())
        return _b64(mac.digest()[:_MAC_BYTES])

    def tag(self, purpose: str, request_id: str) -> str:
        """A MAC binding `purpose` to `request_id`, that only holders of the key can make."""
        return self._mac(f"{purpose}\n{request_id}")

    def tagged(self, purpose: str, request_id: str, tag: str | None) -> bool:
        return tag is not None and hmac.compare_digest(
            tag.encode(), self.tag(purpose, request_id).encode()
        )

    def issue(self, model: str, variant: str, now: float) -> str:
        names = self._names.get((model, variant))
        if names is None:
            names = self._names[(model, variant)] = (
                f"{quote(model, safe='')}/{quote(variant, safe='')}"
            )
        self._counter += 1
        payload = f"{names}/{int(now):x}-{self._prefix}{self._counter:x}{self._owner_suffix}"
        return f"{payload}.{self._mac(payload)}"

    @staticmethod
    def looks_signed(request_id: str) -> bool:
        """Whether `request_id` has the signed shape (it may still be forged)."""
        payload, dot, mac = request_id.rpartition(".")
        return bool(dot and mac) and payload.count("/") == 2 and "-" in payload.rsplit("/", 1)[1]

    def verify(self, request_id: str) -> SignedId | None:
        """The id's content if this key signed it, else None (forged or altered)."""
        payload, _, mac = request_id.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        model, variant, stamp = payload.split("/")
        stamp, _, owner = stamp.partition("~")
        return SignedId(
            model=unquote(model),
            variant=unquote(variant),
            issued=int(stamp.split("-")[0], 16),
            owner=base64.urlsafe_b64decode(owner + "=" * (-len(owner) % 4)).decode()
            if owner
            else None,
        )
