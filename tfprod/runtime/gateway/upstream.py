"""A small HTTP/1.1 keep-alive client for the gateway's upstreams (the model servers).

Why not aiohttp's client: with it the gateway used about 155 us of CPU per proxied request,
with this one about 95 us (same machine and load, `bench/gateway.py`'s CPU-per-request
figure). The gateway needs only one request at a time per pooled connection, a body it already
holds as bytes, and the status and body of the answer. Answers
with `Content-Length`, chunked answers and answers ended by closing the connection are read.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

_MAX_HEAD = 64 * 1024


class UpstreamError(Exception):
    """The upstream could not be reached or broke the HTTP exchange."""


@dataclass(frozen=True)
class Origin:
    """Where an upstream lives: scheme, host and port of its base URL."""

    host: str
    port: int
    tls: bool

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        return cls(host=parts.hostname or "", port=parts.port or (443 if tls else 80), tls=tls)

    @property
    def host_header(self) -> str:
        return self.host if self.port == (443 if self.tls else 80) else f"{self.host}:{self.port}"


class _Connection(asyncio.Protocol):
    """One connection carrying one exchange at a time; reads one answer per request."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.received = False
        self._head: tuple[int, int, bool] | None = None  # status, length (-1: to close), chunked
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport does not subclass asyncio.Transport, but has its methods.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        head = self._head
        if head is not None and head[1] == -1 and not head[2]:  # body ends at close
            waiter.set_result((head[0], bytes(self.buffer)))
            return
        waiter.set_exception(UpstreamError("upstream closed the connection mid-answer"))

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                self._parse()
            except (ValueError, IndexError) as error:
                self.keep_alive = False
                self.waiter.set_exception(UpstreamError(f"malformed answer from upstream: {error}"))
                self.close()

    def send(self, request: bytes, waiter: asyncio.Future[tuple[int, bytes]]) -> None:
        assert self.transport is not None
        self.waiter = waiter
        self.received = False
        self._head = None
        self.transport.write(request)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _read_head(self) -> tuple[int, int, bool] | None:
        """(status, content length or -1, chunked) once the whole head is in, else None."""
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                raise ValueError("answer head too large")
            return None
        lines = bytes(buffer[:end]).split(b"\r\n")
        del buffer[: end + 4]
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked = -1, False
        self.keep_alive = lines[0].startswith(b"HTTP/1.1")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                self.keep_alive = value.strip().lower() != b"close"
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        if length == -1 and not chunked:
            self.keep_alive = False
        return status, length, chunked

    def _parse(self) -> None:
        buffer = self.buffer
        if self._head is None:
            self._head = self._read_head()
            if self._head is None:
                return
        status, length, chunked = self._head
        if chunked:
            body = self._chunked()
            if body is None:
                return
        elif length >= 0:
            if len(buffer) < length:
                return
            body = bytes(buffer[:length])
            del buffer[:length]
        else:
            return  # read until the upstream closes
        assert self.waiter is not None
        self.waiter.set_result((status, body))

    def _chunked(self) -> bytes | None:
        """The whole body once every chunk and the final empty chunk are in (no trailers)."""
        buffer, body, position = self.buffer, bytearray(), 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";", 1)[0], 16)
            start = line_end + 2
            if size == 0:
                if len(buffer) < start + 2:
                    return None
                del buffer[: start + 2]
                return bytes(body)
            if len(buffer) < start + size + 2:
                return None
            body += buffer[start : start + size]
            position = start + size + 2


class UpstreamClient:
    """Pooled keep-alive connections per origin; at most `limit` exchanges per origin at once."""

    def __init__(self, *, limit: int, timeout_seconds: float) -> None:
        self.limit = limit
        self.timeout = timeout_seconds
        self._idle: dict[Origin, list[_Connection]] = {}
        self._slots: dict[Origin, asyncio.Semaphore] = {}
        self._tls = ssl.create_default_context()
        self._all: set[_Connection] = set()

    async def request(
        self,
        origin: Origin,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """Sends one request; returns (status, body). Raises UpstreamError or TimeoutError."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = asyncio.Semaphore(self.limit)
        async with slots:
            idle = self._idle.setdefault(origin, [])
            while idle:
                connection = idle.pop()
                if connection.closed:
                    self._all.discard(connection)
                    continue
                try:
                    return await self._exchange(origin, connection, head + body, timeout)
                except UpstreamError:
                    if connection.received:
                        raise
                    # The upstream closed an idle connection as we reused it: try a new one.
                    break
            connection = await self._connect(origin)
            return await self._exchange(origin, connection, head + body, timeout)

    async def _connect(self, origin: Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    _Connection,
                    origin.host,
                    origin.port,
                    ssl=self._tls if origin.tls else None,
                ),
                self.timeout,
            )
        except OSError as error:
            raise UpstreamError(f"cannot connect: {error.strerror or error}") from None
        self._all.add(connection)
        return connection

    async def _exchange(
        self, origin: Origin, connection: _Connection, request: bytes, timeout: float | None
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        timer = loop.call_later(timeout or self.timeout, _expire, waiter)
        try:
            connection.send(request, waiter)
            answer = await waiter
        except BaseException:
            self._discard(connection)
            raise
        finally:
            timer.cancel()
        connection.waiter = None
        if connection.keep_alive and not connection.closed and not connection.buffer:
            self._idle[origin].append(connection)
        else:
            self._discard(connection)
        return answer

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._all.discard(connection)

    def close(self) -> None:
        """Closes every connection, idle or busy."""
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()


def _expire(waiter: asyncio.Future[tuple[int, bytes]]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
