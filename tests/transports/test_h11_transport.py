"""The h11/anyio transport against scripted servers on 127.0.0.1, under asyncio and trio.

Each server is a plain-socket thread (``_support/scripted_server.py``), so it does not depend on
the loop under test and can misbehave on purpose.  Every await that could hang is bounded
(``anyio.fail_after`` or a short transport timeout), and every socket is closed: the suite runs
with ``-W error::ResourceWarning``.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import gzip
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import pytest
import trio
from _support.scripted_server import (
    CHUNKED_HEAD,
    IO_TIMEOUT,
    Conn,
    ScriptedServer,
    TLSFiles,
    chunked_body,
    free_port,
    response,
    serve_ok,
    wait_until,
)

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.errors import IncompleteResponseError, NoResponseError, RequestTimeoutError
from r9s.transports.base import AsyncResponse, AsyncTransport
from r9s.transports.h11_anyio import H11Response, H11Transport

pytestmark = pytest.mark.anyio

#: Short enough that a hang fails fast, long enough for a loaded CI machine.
T = Timeout(connect=3.0, read=3.0, write=3.0, pool=3.0)
BODY = b'{"model":"m"}'


def req(
    url: str, body: bytes = BODY, headers: dict[str, str] | None = None, method: str = "POST"
) -> Request:
    hdrs = Headers({"Content-Type": "application/json", **(headers or {})})
    return Request(method, url, hdrs, body)


async def read_all(resp: AsyncResponse) -> bytes:
    parts: list[bytes] = []
    for _ in range(100_000):
        chunk = await resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("body never ended")


async def fetch(t: H11Transport, url: str, timeout: Timeout = T, **kw: object) -> tuple[int, bytes]:
    with anyio.fail_after(10):
        resp = await t.handle_async_request(req(url, **kw), timeout)  # type: ignore[arg-type]
        try:
            return resp.status_code, await read_all(resp)
        finally:
            await resp.aclose()


async def eventually(predicate: Callable[[], bool], timeout: float = IO_TIMEOUT) -> bool:
    with anyio.move_on_after(timeout):
        while not predicate():
            await anyio.sleep(0.005)
        return True
    return predicate()


@pytest.fixture
async def transport() -> AsyncIterator[H11Transport]:
    async with H11Transport(trust_env=False) as t:
        yield t


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(serve_ok) as s:
        yield s


def stall(conn: Conn) -> None:
    """Accept, then say nothing until the client closes."""
    conn.wait_closed()


# --- protocol conformance -----------------------------------------------------------------------


def test_satisfies_the_protocol() -> None:
    assert isinstance(H11Transport(trust_env=False), AsyncTransport)  # responses: checked live


async def test_keepalive_reuse_50_sequential(server: ScriptedServer) -> None:
    async with H11Transport(trust_env=False) as t:
        for i in range(50):
            assert await fetch(t, server.url(f"/r{i}")) == (200, b"ok")
        stats = t.stats
        assert server.connections == 1
        assert len(server.conns[0].requests) == 50
        assert (stats.connections_opened, stats.requests, stats.reused) == (1, 50, 49)
        assert (stats.in_use, stats.idle) == (0, 1)
    assert await eventually(server.conns[0].closed_by_peer.is_set)  # aclose() closed it
    assert t.stats.idle == 0


async def test_request_head_on_the_wire(server: ScriptedServer, transport: H11Transport) -> None:
    url = server.url("/v1/chat/completions?x=1")
    headers = {"Authorization": "Bearer k", "Host": "evil", "Content-Length": "999"}
    with anyio.fail_after(10):
        resp = await transport.handle_async_request(req(url, headers=headers), T)
        assert isinstance(resp, AsyncResponse) and isinstance(resp, H11Response)
        await resp.aclose()
    seen = server.conns[0].requests[0]
    assert (seen.method, seen.target, seen.body) == ("POST", "/v1/chat/completions?x=1", BODY)
    assert seen.header("Host") == f"127.0.0.1:{server.port}"
    assert seen.header("Content-Length") == str(len(BODY))
    assert seen.header("Authorization") == "Bearer k"
    assert sorted(seen.header_names) == [
        "authorization",
        "content-length",
        "content-type",
        "host",
    ]  # no Accept-Encoding, no Transfer-Encoding, no duplicate Host
    assert "Content-Type" in [k for k, _ in seen.headers]  # the caller's case is kept


async def test_content_length_body_over_several_reads(transport: H11Transport) -> None:
    big = bytes(range(256)) * 1000  # 256 000 bytes: several 64 KiB reads

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(response(big, headers=[("X-Request-Id", "req-1")]))

    with ScriptedServer(script) as srv:
        with anyio.fail_after(10):
            resp = await transport.handle_async_request(req(srv.url()), T)
            sizes = []
            while chunk := await resp.read_chunk():
                sizes.append(len(chunk))
            assert await resp.read_chunk() == b""  # stays ended
            await resp.aclose()
            await resp.aclose()  # idempotent
        assert resp.headers["x-request-id"] == "req-1"
        assert ("X-Request-Id", "req-1") in resp.headers.raw()
        assert sum(sizes) == len(big) and max(sizes) <= 64 * 1024 and len(sizes) >= 4
        assert await fetch(transport, srv.url()) == (200, big)
        assert srv.connections == 1


async def test_content_coding_is_left_alone(transport: H11Transport) -> None:
    packed = gzip.compress(b"hello " * 100)

    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(packed, headers=[("Content-Encoding", "gzip")]))

    with ScriptedServer(script) as srv:
        assert await fetch(transport, srv.url()) == (200, packed)


async def test_chunked_body_and_reuse(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(CHUNKED_HEAD + chunked_body(b"data: 1\n\n", b"data: 2\n\n", b"x" * 70_000))

    with ScriptedServer(script) as srv:
        for _ in range(3):
            assert await fetch(transport, srv.url()) == (
                200,
                b"data: 1\n\ndata: 2\n\n" + b"x" * 70_000,
            )
        assert srv.connections == 1


async def test_streaming_read_before_the_body_is_complete(transport: H11Transport) -> None:
    release = threading.Event()

    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + chunked_body(b"first", last=False))
        release.wait(IO_TIMEOUT)
        conn.send(chunked_body(b"second"))
        conn.wait_closed()

    with ScriptedServer(script) as srv:
        with anyio.fail_after(5):
            resp = await transport.handle_async_request(req(srv.url()), T)
            try:
                assert await resp.read_chunk() == b"first"
                assert not release.is_set()  # the rest has not even been sent yet
                release.set()
                assert await read_all(resp) == b"second"
            finally:
                await resp.aclose()


async def test_empty_body_reused_without_reading(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 204 No Content\r\n\r\n")

    with ScriptedServer(script) as srv:
        for _ in range(3):
            with anyio.fail_after(5):
                resp = await transport.handle_async_request(req(srv.url()), T)
                assert resp.status_code == 204
                await resp.aclose()  # nothing to read: the connection is still reusable
        assert srv.connections == 1


async def test_connection_close_is_not_reused(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(b"bye", headers=[("Connection", "close")]))

    with ScriptedServer(script) as srv:
        for _ in range(3):
            assert await fetch(transport, srv.url()) == (200, b"bye")
        assert srv.connections == 3
        assert transport.stats.stale_retries == 0
        assert transport.stats.idle == 0


async def test_keepalive_expiry_and_max_keepalive(server: ScriptedServer) -> None:
    async with H11Transport(trust_env=False, keepalive_expiry=0.05) as t:
        await fetch(t, server.url())
        await anyio.sleep(0.15)
        await fetch(t, server.url())
        assert server.connections == 2
        assert await eventually(server.conns[0].closed_by_peer.is_set)
    async with H11Transport(trust_env=False, max_keepalive=0) as t:
        await fetch(t, server.url())
        await fetch(t, server.url())
        assert t.stats.connections_opened == 2 and t.stats.idle == 0
    assert server.connections == 4


# --- failures -----------------------------------------------------------------------------------


async def test_connection_refused_promptly(transport: H11Transport) -> None:
    port = free_port()
    start = time.monotonic()
    with anyio.fail_after(5), pytest.raises(NoResponseError) as info:
        await transport.handle_async_request(req(f"http://127.0.0.1:{port}/"), T)
    assert time.monotonic() - start < 2.5
    assert not isinstance(info.value, RequestTimeoutError)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert info.value.__cause__ is not None
    assert transport.stats.in_use == 0


async def test_reset_mid_body(transport: H11Transport) -> None:
    go = threading.Event()

    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(b"x" * 10, length=100))
        go.wait(IO_TIMEOUT)
        conn.reset()

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)
        try:
            assert await resp.read_chunk() == b"x" * 10
            go.set()
            with pytest.raises(NoResponseError) as info:
                await read_all(resp)
        finally:
            await resp.aclose()
        assert f"127.0.0.1:{srv.port}" in str(info.value)
        assert transport.stats.in_use == 0


async def test_truncated_chunked_body(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + chunked_body(b"abc", last=False))
        conn.close()

    with ScriptedServer(script) as srv, pytest.raises(IncompleteResponseError) as info:
        await fetch(transport, srv.url())
    assert "3 body bytes" in str(info.value) and "last chunk" in str(info.value)
    assert transport.stats.in_use == 0


async def test_short_content_length(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(b"x" * 10, length=100))
        conn.close()

    with ScriptedServer(script) as srv, pytest.raises(IncompleteResponseError) as info:
        await fetch(transport, srv.url())
    assert "10 of 100" in str(info.value)
    assert isinstance(info.value, NoResponseError)


async def test_read_timeout_on_the_body_promptly(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + chunked_body(b"partial", last=False))
        conn.wait_closed()

    quick = Timeout(connect=3.0, read=0.2, write=3.0, pool=3.0)
    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), quick)
        try:
            assert await resp.read_chunk() == b"partial"
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError) as info:
                await resp.read_chunk()
            assert 0.15 < time.monotonic() - start < 1.5
            assert "read timeout" in str(info.value) and "0.2 s" in str(info.value)
        finally:
            await resp.aclose()
        assert await eventually(srv.conns[0].closed_by_peer.is_set)  # closed after the timeout
        assert transport.stats.in_use == 0


async def test_read_chunk_timeout_overrides(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD)
        conn.wait_closed()

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)  # read timeout 3 s
        try:
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError, match=r"0\.1 s"):
                await resp.read_chunk(timeout=0.1)
            assert time.monotonic() - start < 1.0
        finally:
            await resp.aclose()


async def test_read_timeout_waiting_for_headers(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.wait_closed()

    quick = Timeout(connect=3.0, read=0.2, write=3.0, pool=3.0)
    with ScriptedServer(script) as srv, anyio.fail_after(5):
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="read timeout"):
            await transport.handle_async_request(req(srv.url()), quick)
        assert time.monotonic() - start < 1.5
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0


async def test_connect_timeout(transport: H11Transport) -> None:
    # A plain server that never answers the TLS ClientHello: the handshake (part of connecting)
    # stalls.
    quick = Timeout(connect=0.2, read=3.0, write=3.0, pool=3.0)
    with ScriptedServer(stall) as srv, anyio.fail_after(5):
        url = f"https://127.0.0.1:{srv.port}/"
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="connect timeout"):
            await transport.handle_async_request(req(url), quick)
        assert time.monotonic() - start < 1.5
        assert await eventually(lambda: srv.connections == 1)
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0


async def test_write_timeout(transport: H11Transport) -> None:
    release = threading.Event()

    def script(conn: Conn) -> None:
        release.wait(IO_TIMEOUT)  # never reads: the socket buffers fill up

    quick = Timeout(connect=3.0, read=3.0, write=0.2, pool=3.0)
    with ScriptedServer(script) as srv, anyio.fail_after(5):
        start = time.monotonic()
        try:
            with pytest.raises(RequestTimeoutError, match=r"write timeout.*0\.2 s"):
                await transport.handle_async_request(req(srv.url(), body=b"x" * (32 << 20)), quick)
        finally:
            release.set()
        assert time.monotonic() - start < 2.0
        assert transport.stats.in_use == 0


async def test_pool_timeout_and_wakeup(server: ScriptedServer) -> None:
    async with H11Transport(trust_env=False, max_connections=1) as t:
        with anyio.fail_after(10):
            held = await t.handle_async_request(req(server.url()), T)
            assert t.stats.in_use == 1
            quick = Timeout(connect=3.0, read=3.0, write=3.0, pool=0.2)
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError) as info:
                await t.handle_async_request(req(server.url()), quick)
            assert 0.15 < time.monotonic() - start < 1.5
            assert "no free connection within 0.2 s (pool timeout" in str(info.value)

            # A waiter is woken as soon as the connection is released.
            results: list[tuple[int, bytes]] = []
            async with anyio.create_task_group() as tg:

                async def waiter() -> None:
                    results.append(await fetch(t, server.url()))

                tg.start_soon(waiter)
                await anyio.sleep(0.05)
                assert not results
                assert await read_all(held) == b"ok"
                await held.aclose()
            assert results == [(200, b"ok")]
            assert t.stats.in_use == 0 and server.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Secret sk-secret-123\r\n\r\n",
    ],
)
async def test_malformed_response_head(transport: H11Transport, reply: bytes) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(reply)
        conn.wait_closed()

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        with pytest.raises(NoResponseError) as info:
            await transport.handle_async_request(req(srv.url()), T)
        message = str(info.value)
        assert f"127.0.0.1:{srv.port}" in message and "invalid response" in message
        assert "sk-secret" not in message  # bytes from the wire are not quoted
        assert isinstance(info.value.__cause__, Exception)
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0


async def test_no_response_on_a_fresh_connection_is_not_retried(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.close()

    with ScriptedServer(script) as srv:
        with pytest.raises(NoResponseError, match="without sending a response"):
            await fetch(transport, srv.url())
        assert srv.connections == 1
        assert transport.stats.stale_retries == 0


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_stale_pooled_connection_retried(transport: H11Transport, how: str) -> None:
    def script(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(response(b"first"))
            conn.read_request()  # the second request arrives ... and the server goes away
            conn.reset() if how == "reset" else conn.close()
            return
        serve_ok(conn)

    with ScriptedServer(script) as srv:
        assert await fetch(transport, srv.url()) == (200, b"first")
        assert await fetch(transport, srv.url()) == (200, b"ok")
        assert srv.connections == 2
        assert len(srv.conns[0].requests) == 2 and len(srv.conns[1].requests) == 1
        assert transport.stats.stale_retries == 1
        assert transport.stats.in_use == 0


async def test_idle_connection_closed_by_server_is_not_reused(transport: H11Transport) -> None:
    closed = threading.Event()

    def script(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(response(b"first"))
            conn.close()
            closed.set()
            return
        serve_ok(conn)

    with ScriptedServer(script) as srv:
        assert await fetch(transport, srv.url()) == (200, b"first")
        assert await eventually(closed.is_set)
        await anyio.sleep(0.05)  # let the FIN arrive
        assert await fetch(transport, srv.url()) == (200, b"ok")
        assert srv.connections == 2 and len(srv.conns[0].requests) == 1
        assert transport.stats.stale_retries == 0  # noticed before the request was sent


async def test_response_closed_early_is_not_reused(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(response(b"y" * 500, length=1000))
            conn.wait_closed()
            return
        serve_ok(conn)

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)
        assert await resp.read_chunk() == b"y" * 500
        await resp.aclose()
        with pytest.raises(NoResponseError, match="closed before its end"):
            await resp.read_chunk()
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert await fetch(transport, srv.url()) == (200, b"ok")
        assert srv.connections == 2
        assert transport.stats.in_use == 0


async def test_invalid_header_rejected_before_any_io(
    server: ScriptedServer, transport: H11Transport
) -> None:
    for headers in (
        {"X-Evil": "a\r\nInjected: 1"},
        {"X-Evil": "a\nb"},
        {"X-Evil": "a\0b"},
        {"X-Bad\r\nName": "v"},
        {"X-Bad Name": "v"},
    ):
        with pytest.raises(ValueError):
            await transport.handle_async_request(req(server.url(), headers=headers), T)
    with pytest.raises(ValueError):
        await transport.handle_async_request(req("ftp://127.0.0.1/"), T)
    await anyio.sleep(0.05)
    assert server.connections == 0
    assert transport.stats.connections_opened == 0


# --- cancellation -------------------------------------------------------------------------------


async def test_cancel_while_connecting(server: ScriptedServer, transport: H11Transport) -> None:
    with ScriptedServer(stall) as srv:
        url = f"https://127.0.0.1:{srv.port}/"  # the TLS handshake never completes
        with anyio.fail_after(5):
            with anyio.move_on_after(0.2) as scope:
                await transport.handle_async_request(req(url), T)
            assert scope.cancelled_caught  # cancelled, not converted into an error
        assert await eventually(lambda: srv.connections == 1)
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
    assert transport.stats.in_use == 0
    assert await fetch(transport, server.url()) == (200, b"ok")
    assert transport.stats.in_use == 0


async def test_cancel_while_waiting_for_headers(
    server: ScriptedServer, transport: H11Transport
) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.wait_closed()

    with ScriptedServer(script) as srv:
        with anyio.fail_after(5):
            with anyio.move_on_after(0.2) as scope:
                await transport.handle_async_request(req(srv.url()), T)
            assert scope.cancelled_caught
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
    assert transport.stats.in_use == 0
    assert await fetch(transport, server.url()) == (200, b"ok")
    assert transport.stats.in_use == 0


async def test_cancel_mid_body(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(CHUNKED_HEAD + chunked_body(b"part", last=False))
            conn.wait_closed()
            return
        serve_ok(conn)

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)
        with anyio.move_on_after(0.2) as scope:
            try:
                while await resp.read_chunk():
                    pass
            finally:
                await resp.aclose()  # runs while the scope is cancelled
        assert scope.cancelled_caught
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0
        assert await fetch(transport, srv.url()) == (200, b"ok")
        assert srv.connections == 2


async def test_aclose_inside_a_cancelled_scope(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + chunked_body(b"part", last=False))
        conn.wait_closed()

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await resp.aclose()
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0


async def test_cancel_while_waiting_for_the_pool(server: ScriptedServer) -> None:
    async with H11Transport(trust_env=False, max_connections=1) as t:
        with anyio.fail_after(5):
            held = await t.handle_async_request(req(server.url()), T)
            with anyio.move_on_after(0.1) as scope:
                await t.handle_async_request(req(server.url()), T)
            assert scope.cancelled_caught
            await held.aclose()
            assert t.stats.in_use == 0
            assert await fetch(t, server.url()) == (200, b"ok")
            assert t.stats.in_use == 0


async def test_task_group_cancelled_by_a_sibling_failure(transport: H11Transport) -> None:
    streaming = anyio.Event()

    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + chunked_body(b"data: 1\n\n", last=False))
        conn.wait_closed()

    async def reader(url: str) -> None:
        resp = await transport.handle_async_request(req(url), T)
        try:
            assert await resp.read_chunk() == b"data: 1\n\n"
            streaming.set()
            while await resp.read_chunk():
                pass
        finally:
            await resp.aclose()

    async def failer() -> None:
        await streaming.wait()
        raise KeyError("sibling failed")

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        with pytest.raises(BaseExceptionGroup) as info:
            async with anyio.create_task_group() as tg:
                tg.start_soon(reader, srv.url())
                tg.start_soon(failer)
        errors = info.value.exceptions
        assert len(errors) == 1 and isinstance(errors[0], KeyError)  # nothing converted
        assert await eventually(srv.conns[0].closed_by_peer.is_set)
        assert transport.stats.in_use == 0


# --- concurrency --------------------------------------------------------------------------------


async def test_twenty_concurrent_requests_over_five_connections() -> None:
    def script(conn: Conn) -> None:
        while (seen := conn.read_request()) is not None:
            time.sleep(0.02)
            conn.send(response(seen.target.encode()))

    results: dict[int, tuple[int, bytes]] = {}
    with ScriptedServer(script) as srv:
        async with H11Transport(trust_env=False, max_connections=5) as t:

            async def one(i: int) -> None:
                results[i] = await fetch(t, srv.url(f"/{i}"))

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for i in range(20):
                        tg.start_soon(one, i)
            assert results == {i: (200, f"/{i}".encode()) for i in range(20)}
            assert srv.connections <= 5
            assert t.stats.connections_opened <= 5
            assert t.stats.in_use == 0


async def test_idle_connection_evicted_for_another_origin(server: ScriptedServer) -> None:
    with ScriptedServer(serve_ok) as other:
        async with H11Transport(trust_env=False, max_connections=1) as t:
            assert await fetch(t, server.url()) == (200, b"ok")
            assert t.stats.idle == 1
            quick = Timeout(connect=3.0, read=3.0, write=3.0, pool=0.5)
            assert await fetch(t, other.url(), timeout=quick) == (200, b"ok")  # no pool wait
            assert await eventually(server.conns[0].closed_by_peer.is_set)
            assert (t.stats.idle, t.stats.in_use, t.stats.connections_opened) == (1, 0, 2)


async def test_random_cancellations_keep_the_pool_consistent() -> None:
    rng = random.Random(1234)

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(CHUNKED_HEAD)
            for _ in range(3):
                time.sleep(0.002)
                if not conn.send(chunked_body(b"x" * 100, last=False)):
                    return
            conn.send(chunked_body())

    outcomes = {"done": 0, "cancelled": 0}
    with ScriptedServer(script) as srv:
        async with H11Transport(trust_env=False, max_connections=5) as t:

            async def one(deadline: float) -> None:
                with anyio.move_on_after(deadline) as scope:
                    resp = await t.handle_async_request(req(srv.url()), T)
                    try:
                        assert await read_all(resp) == b"x" * 300
                    finally:
                        await resp.aclose()
                outcomes["cancelled" if scope.cancelled_caught else "done"] += 1

            with anyio.fail_after(15):
                async with anyio.create_task_group() as tg:
                    for _ in range(60):
                        tg.start_soon(one, rng.random() * 0.08)
                assert sum(outcomes.values()) == 60 and outcomes["cancelled"] > 0
                assert t.stats.in_use == 0 and t.stats.idle <= 5
                for _ in range(5):
                    async with anyio.create_task_group() as tg:
                        for _ in range(5):
                            tg.start_soon(one, 5.0)
                assert outcomes["done"] >= 25 and t.stats.in_use == 0


# --- TLS ----------------------------------------------------------------------------------------


async def test_tls_verified_with_a_ca_file(tls_files: TLSFiles) -> None:
    with ScriptedServer(serve_ok, ssl_context=tls_files.server_context()) as srv:
        async with H11Transport(trust_env=False, verify=str(tls_files.ca)) as t:
            for _ in range(3):
                assert await fetch(t, srv.url("/tls")) == (200, b"ok")
            assert srv.connections == 1  # kept alive over TLS too
            assert srv.conns[0].requests[0].header("Host") == f"127.0.0.1:{srv.port}"


async def test_tls_untrusted_certificate(tls_files: TLSFiles) -> None:
    with ScriptedServer(serve_ok, ssl_context=tls_files.server_context()) as srv:
        async with H11Transport(trust_env=False) as t:  # system CAs: our test CA is unknown
            with anyio.fail_after(5), pytest.raises(NoResponseError) as info:
                await t.handle_async_request(req(srv.url()), T)
            message = str(info.value)
            assert "certificate" in message and "could not be verified" in message
            assert f"127.0.0.1:{srv.port}" in message
            assert t.stats.in_use == 0


# --- proxies ------------------------------------------------------------------------------------


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


async def test_http_through_a_proxy(clean_proxy_env: pytest.MonkeyPatch) -> None:
    with ScriptedServer(serve_ok) as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", f"http://user:s3cret@127.0.0.1:{proxy.port}")
        async with H11Transport() as t:
            assert await fetch(t, "http://api.example.test:8080/v1/x?y=1") == (200, b"ok")
        seen = proxy.conns[0].requests[0]
        assert seen.target == "http://api.example.test:8080/v1/x?y=1"  # absolute form
        assert seen.header("Host") == "api.example.test:8080"
        expected = "Basic " + base64.b64encode(b"user:s3cret").decode()
        assert seen.header("Proxy-Authorization") == expected
    async with H11Transport(trust_env=False) as t:  # trust_env=False ignores the variable
        with pytest.raises(NoResponseError):
            await fetch(t, f"http://127.0.0.1:{free_port()}/")


def tunnel_script(seen: list[str], status: int = 200) -> Callable[[Conn], None]:
    """A CONNECT proxy: answers ``status`` and, on 200, relays bytes both ways."""

    def script(conn: Conn) -> None:
        request = conn.read_request()
        if request is None:
            return
        seen.append(f"{request.method} {request.target} {request.header('Proxy-Authorization')}")
        if status != 200:
            conn.send(response(b"no", status=status, reason="Proxy Authentication Required"))
            conn.wait_closed()
            return
        host, port = request.target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=IO_TIMEOUT)
        conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, conn.sock), daemon=True)
        back.start()
        pump(conn.sock, upstream)
        back.join(IO_TIMEOUT)
        upstream.close()

    return script


async def test_https_through_a_connect_tunnel(
    tls_files: TLSFiles, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    with (
        ScriptedServer(serve_ok, ssl_context=tls_files.server_context()) as origin,
        ScriptedServer(tunnel_script(seen)) as proxy,
    ):
        clean_proxy_env.setenv("HTTPS_PROXY", f"http://u:pw@127.0.0.1:{proxy.port}")
        async with H11Transport(verify=str(tls_files.ca)) as t:
            assert await fetch(t, origin.url("/via-tunnel")) == (200, b"ok")
            assert await fetch(t, origin.url("/again")) == (200, b"ok")
        auth = "Basic " + base64.b64encode(b"u:pw").decode()
        assert seen == [f"CONNECT 127.0.0.1:{origin.port} {auth}"]  # one tunnel, reused
        assert [r.target for r in origin.conns[0].requests] == ["/via-tunnel", "/again"]


async def test_proxy_refusing_connect(
    tls_files: TLSFiles, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    with ScriptedServer(tunnel_script(seen, status=407)) as proxy:
        clean_proxy_env.setenv("HTTPS_PROXY", f"http://u:topsecret@127.0.0.1:{proxy.port}")
        async with H11Transport(verify=str(tls_files.ca)) as t:
            with anyio.fail_after(5), pytest.raises(NoResponseError) as info:
                await t.handle_async_request(req("https://127.0.0.1:9/"), T)
            assert "407" in str(info.value) and "topsecret" not in str(info.value)
            assert t.stats.in_use == 0
        assert await eventually(proxy.conns[0].closed_by_peer.is_set)


# --- one transport, many event loops (plain tests: they run their own loops) --------------------


def test_one_transport_across_event_loops_and_threads() -> None:
    t = H11Transport(trust_env=False)

    async def use(n: int = 1) -> list[tuple[int, bytes]]:
        return [await fetch(t, srv.url(f"/{i}")) for i in range(n)]

    with ScriptedServer(serve_ok) as srv:
        assert asyncio.run(use(2)) == [(200, b"ok")] * 2
        assert asyncio.run(use(2)) == [(200, b"ok")] * 2
        # The first loop's pooled connection was closed, not reused on the second loop.
        assert wait_until(srv.conns[0].closed_by_peer.is_set)
        assert trio.run(use, 2) == [(200, b"ok")] * 2
        assert asyncio.run(use()) == [(200, b"ok")]

        results: list[list[tuple[int, bytes]]] = []
        errors: list[BaseException] = []

        def in_thread() -> None:
            try:
                results.append(asyncio.run(use(5)))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=in_thread) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(10)
        assert not errors and results == [[(200, b"ok")] * 5] * 2

        asyncio.run(t.aclose())  # closes the idle connections every ended loop left behind
        assert t.stats.idle == 0 and t.stats.in_use == 0
        assert wait_until(lambda: all(c.closed_by_peer.is_set() for c in srv.conns))
        assert t.stats.connections_opened == srv.connections
    gc.collect()  # nothing left for the collector to warn about


def test_transport_outside_a_loop_is_inert() -> None:
    t = H11Transport(trust_env=False)  # nothing loop-bound is created here
    assert t.stats.connections_opened == 0
    with pytest.raises(ValueError):
        H11Transport(max_connections=0)


# --- the body read around h11 (chunked coding by the core's ChunkedDecoder) -----------------


async def read_pieces(resp: AsyncResponse) -> list[bytes]:
    pieces: list[bytes] = []
    for _ in range(100_000):
        piece = await resp.read_chunk()
        if not piece:
            return pieces
        pieces.append(piece)
    raise AssertionError("body never ended")


async def test_chunks_already_received_come_as_one_piece(transport: H11Transport) -> None:
    events = [b"data: %d\n\n" % i for i in range(500)]

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(CHUNKED_HEAD + chunked_body(*events))  # one send: 500 chunks, about 9 KB

    with ScriptedServer(script) as srv:
        for _ in range(2):
            with anyio.fail_after(5):
                resp = await transport.handle_async_request(req(srv.url()), T)
                try:
                    pieces = await read_pieces(resp)
                finally:
                    await resp.aclose()
            assert b"".join(pieces) == b"".join(events)
            assert len(pieces) < 20  # not one per HTTP chunk
        assert srv.connections == 1
        assert transport.stats.reused == 1


@pytest.mark.parametrize(
    "answer",
    [
        CHUNKED_HEAD + chunked_body(b"abc") + b"HTTP/1.1 200 OK\r\n",
        response(b"abc") + b"junk",
        CHUNKED_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + chunked_body(b"abc"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    ],
    ids=["chunked-surplus", "content-length-surplus", "connection-close", "http-1.0"],
)
async def test_a_connection_is_not_reused_after(transport: H11Transport, answer: bytes) -> None:
    def script(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(answer)
            conn.wait_closed()

    with ScriptedServer(script) as srv:
        for _ in range(2):
            assert await fetch(transport, srv.url()) == (200, b"abc")
        assert srv.connections == 2
        assert transport.stats.idle == 0 and transport.stats.in_use == 0
        assert transport.stats.stale_retries == 0


async def test_trailers_and_extensions_keep_the_connection(transport: H11Transport) -> None:
    body = b'3;ext=1\r\nabc\r\n2 ; q="x"\r\nde\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n'

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(CHUNKED_HEAD + body)

    with ScriptedServer(script) as srv:
        for _ in range(3):
            assert await fetch(transport, srv.url()) == (200, b"abcde")
        assert srv.connections == 1


@pytest.mark.parametrize("method", ["HEAD", "POST"])
async def test_no_body_needs_no_read(transport: H11Transport, method: str) -> None:
    # A HEAD answer announces the body it does not send; a 304 has none either.
    answer = (
        CHUNKED_HEAD
        if method == "HEAD"
        else b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
    )

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(answer)

    with ScriptedServer(script) as srv:
        for _ in range(3):
            with anyio.fail_after(5):
                resp = await transport.handle_async_request(
                    req(srv.url(), body=b"", method=method), T
                )
                try:
                    assert await resp.read_chunk() == b""
                    assert await resp.read_chunk() == b""
                finally:
                    await resp.aclose()
        assert srv.connections == 1


async def test_body_delimited_by_close(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\n\r\nuntil")
        conn.send(b" the end")
        conn.close()

    with ScriptedServer(script) as srv:
        assert await fetch(transport, srv.url()) == (200, b"until the end")
        assert transport.stats.idle == 0 and transport.stats.in_use == 0


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\n", b"-5\r\n", b"0x5\r\n", b"5\n", b"1" * 17 + b"\r\n", b"5;" + b"e" * 2000],
    ids=["not-hex", "negative", "0x", "bare-lf", "17-digits", "size-line-2k"],
)
async def test_malformed_chunked_framing(transport: H11Transport, framing: bytes) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(
            CHUNKED_HEAD + chunked_body(b"good", last=False) + framing + b"hello\r\n0\r\n\r\n"
        )
        conn.wait_closed()

    with ScriptedServer(script) as srv, anyio.fail_after(5):
        resp = await transport.handle_async_request(req(srv.url()), T)
        try:
            assert await resp.read_chunk() == b"good"  # the bytes before the bad ones first
            with pytest.raises(NoResponseError) as info:
                await resp.read_chunk()
        finally:
            await resp.aclose()
    assert "malformed body" in str(info.value)
    assert not isinstance(info.value, (IncompleteResponseError, RequestTimeoutError))
    assert transport.stats.in_use == 0 and transport.stats.idle == 0


async def test_chunk_data_without_its_crlf(transport: H11Transport) -> None:
    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + b"5\r\nhelloXX0\r\n\r\n")
        conn.wait_closed()

    with ScriptedServer(script) as srv, pytest.raises(NoResponseError, match="CRLF"):
        await fetch(transport, srv.url())


@pytest.mark.parametrize("cut", [1, 4, 9, 12, 15])
async def test_truncated_at_any_point_of_the_framing(transport: H11Transport, cut: int) -> None:
    wire = chunked_body(b"abc", b"defg")  # 3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n

    def script(conn: Conn) -> None:
        conn.read_request()
        conn.send(CHUNKED_HEAD + wire[:cut])
        conn.close()

    with ScriptedServer(script) as srv, pytest.raises(IncompleteResponseError, match="last chunk"):
        await fetch(transport, srv.url())
    assert transport.stats.in_use == 0
