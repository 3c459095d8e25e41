"""The gateway's keep-alive HTTP/1.1 client against raw loopback servers that answer in the
ways HTTP allows: Content-Length, chunked, close-delimited, and idle connections closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop

from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError

Answer = Callable[[int], bytes | None]  # request number -> raw answer (None: close without one)


async def with_server(
    answer: Answer, exercise: Callable[[UpstreamClient, Origin, list[int]], object]
) -> None:
    """Serves `answer` on a loopback port, runs `exercise`, and records connections opened."""
    requests = 0
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                requests += 1
                raw = answer(requests)
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if b"Connection: close" in raw or (
                    b"Content-Length" not in raw and (b"chunked" not in raw)
                ):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = UpstreamClient(limit=8, timeout_seconds=2)
    try:
        result = exercise(client, Origin.of(f"http://127.0.0.1:{port}"), connections)
        if asyncio.iscoroutine(result):
            await result
    finally:
        client.close()
        server.close()
        await server.wait_closed()


def run(answer: Answer, exercise: Callable[[UpstreamClient, Origin, list[int]], object]) -> None:
    uvloop.run(with_server(answer, exercise))


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_reuses_one_connection_for_sequential_requests() -> None:
    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        answers = [await client.request(origin, "POST", "/p", b"{}") for _ in range(3)]
        assert answers == [(200, b'{"n": 1}'), (200, b'{"n": 2}'), (200, b'{"n": 3}')]
        assert len(connections) == 1

    run(lambda n: ok(b'{"n": %d}' % n), exercise)


def test_reads_chunked_answers() -> None:
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"err\r\n9;ext=1\r\nor": "x"}\r\n0\r\n\r\n'
    )

    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        assert await client.request(origin, "POST", "/p", b"{}") == (400, b'{"error": "x"}')
        assert await client.request(origin, "POST", "/p", b"{}") == (400, b'{"error": "x"}')
        assert len(connections) == 1

    run(lambda n: chunked, exercise)


def test_reads_answers_that_end_when_the_connection_closes() -> None:
    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        assert await client.request(origin, "GET", "/s") == (200, b"until close")
        assert await client.request(origin, "GET", "/s") == (200, b"until close")
        assert len(connections) == 2

    run(lambda n: b"HTTP/1.0 200 OK\r\n\r\nuntil close", exercise)


def test_retries_on_a_new_connection_when_an_idle_one_was_closed_by_the_upstream() -> None:
    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        assert await client.request(origin, "POST", "/p", b"{}") == (200, b"first")
        assert await client.request(origin, "POST", "/p", b"{}") == (200, b"third")
        assert len(connections) == 2

    # The second request is read and the connection closed without an answer.
    run(lambda n: None if n == 2 else ok(b"first" if n == 1 else b"third"), exercise)


def test_a_connection_refused_is_an_upstream_error() -> None:
    async def exercise() -> None:
        client = UpstreamClient(limit=1, timeout_seconds=1)
        with pytest.raises(UpstreamError) as error:
            await client.request(Origin.of("http://127.0.0.1:9"), "GET", "/")
        assert str(error.value) == "cannot connect: Connection refused"

    uvloop.run(exercise())


def test_a_silent_upstream_times_out() -> None:
    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        with pytest.raises(TimeoutError):
            await client.request(origin, "POST", "/p", b"{}", timeout=0.2)

    run(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", exercise)


def test_a_malformed_answer_is_an_upstream_error() -> None:
    async def exercise(client: UpstreamClient, origin: Origin, connections: list[int]) -> None:
        with pytest.raises(UpstreamError) as error:
            await client.request(origin, "POST", "/p", b"{}")
        assert str(error.value) == (
            "malformed answer from upstream: invalid literal for int() with base 10: b'OK'"
        )

    run(lambda n: b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n", exercise)


def test_origins_default_the_port_by_scheme() -> None:
    assert Origin.of("http://models") == Origin(host="models", port=80, tls=False)
    assert Origin.of("https://models:8443").host_header == "models:8443"
    assert Origin.of("https://models").host_header == "models"
