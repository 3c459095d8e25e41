"""Free TCP ports for the processes of the local platform."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that was free a moment ago (the usual small race applies)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class PortInUseError(OSError):
    """A port the platform was told to use is taken; the message names it."""


def ensure_port_free(host: str, port: int, *, flag: str) -> None:
    """Raises PortInUseError naming `flag` and `port` when nothing could listen there now.

    Binds as the servers do (SO_REUSEADDR), so a port only lingering in TIME_WAIT counts as
    free and a port another process listens on does not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise PortInUseError(
                f"{flag} {port}: {host}:{port} is in use ({error.strerror});"
                f" stop what listens there or give another {flag} (0 picks a free one)"
            ) from None
