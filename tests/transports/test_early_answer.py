"""Early answers: the server responds (and gives up reading) while the request body is still sent.

A proxy or gateway answers ``413 Payload Too Large`` (or ``401``) as soon as it has read the
request head, then closes, while the client is still pushing a body of several megabytes.  The
client's send then fails (a reset, a broken pipe) or stalls (a write timeout), yet the server's
answer is already in the client's receive buffer.  RFC 9112 section 9.6 asks a client to look
for it; both transports do, and return it as an ordinary response that is never pooled.

The servers here are one plain-socket thread each, on 127.0.0.1, scripted per connection, so
that what the client sees on the wire is fixed by the TCP behaviour each script relies on:

- ``reset``: the server sends its answer and closes with the rest of the body unread in its
  receive buffer.  The kernel then sends a reset instead of a FIN (RFC 2525 section 2.17; Linux
  does so at once), and the client's next write fails with ``ECONNRESET`` or ``EPIPE``.  Linux
  keeps the bytes received before a reset readable; other systems may discard them, and the
  client can then only report ``NoResponseError`` (``_expect_answer`` allows that off Linux).
- ``linger0``: the same, with ``SO_LINGER`` set to zero: the close is an explicit abort (a
  reset whatever the buffers hold).
- ``fin-stop``: the server sends its answer, half-closes (``shutdown(SHUT_WR)``: a FIN after
  the answer) and stops reading.  Its receive window fills, the client's send stalls and the
  write timeout expires; the answer waits in the client's buffer.
- ``fin-drain``: the server sends its answer, half-closes, and reads the whole body before
  closing: the send completes and the answer is read the usual way (the control case).

Every socket is closed explicitly (the suite runs with ``ResourceWarning`` as an error), every
loop is bounded in count and time, and each server thread is joined on exit.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest

from r9s import R9S
from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.errors import NoResponseError, R9SError, RequestTimeoutError
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.urllib import UrllibTransport

#: Larger than the loopback socket buffers of both ends together (Linux autotunes them up to a
#: few MiB each), so the server's answer always comes while the body is still being sent.
BIG = 32 << 20
T = Timeout(connect=5.0, read=5.0, write=5.0, pool=5.0)
#: For ``fin-stop``: the write stalls, so the write timeout is what ends the send.
QUICK_WRITE = Timeout(connect=5.0, read=2.0, write=0.3, pool=5.0)
#: Bound on every blocking socket call and wait in a server thread.
IO_WAIT = 5.0
ERROR_MESSAGE = "request body too large: at most 1048576 bytes"
ERROR_BODY = json.dumps(
    {"error": {"message": ERROR_MESSAGE, "type": "invalid_request_error", "code": 413}}
).encode()

MODES = ["reset", "linger0", "fin-stop", "fin-drain"]


def answer(status: bytes, body: bytes, *, close: bool) -> bytes:
    head = [
        b"HTTP/1.1 " + status,
        b"Content-Type: application/json",
        b"Content-Length: " + str(len(body)).encode(),
    ]
    if close:
        head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


TOO_LARGE = answer(b"413 Payload Too Large", ERROR_BODY, close=True)
UNAUTHORIZED_BODY = b'{"error": {"message": "invalid api key"}}'
#: Keep-alive on purpose: the client must still not pool a connection whose request failed.
UNAUTHORIZED = answer(b"401 Unauthorized", UNAUTHORIZED_BODY, close=False)
REQUEST_TIMEOUT = answer(b"408 Request Timeout", b"", close=True)


def ok(body: bytes) -> bytes:
    return answer(b"200 OK", body, close=False)


# -- the server --------------------------------------------------------------------------------


class Peer:
    """One accepted connection: reads request heads and bodies with bounded loops."""

    def __init__(self, sock: socket.socket, release: threading.Event) -> None:
        self.sock = sock
        self.buf = b""
        self.release = release  # set once the client is done (and when the server stops)

    def read_head(self) -> bytes | None:
        """The next request head (``None`` at EOF); what follows it stays in ``buf``."""
        for _ in range(1000):
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buf = self.buf[: end + 4], self.buf[end + 4 :]
                return head
            if len(self.buf) > 65536:
                raise AssertionError("request head too long")
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        raise AssertionError("request head never ended")

    def read_body(self, head: bytes) -> int:
        """Read (and drop) the Content-Length body of ``head``; returns its length."""
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        left = length - len(self.buf)
        self.buf = self.buf[length:] if left <= 0 else b""
        for _ in range(100_000):
            if left <= 0:
                return length
            data = self.sock.recv(min(left, 1 << 20))
            if not data:
                raise AssertionError(f"body cut short, {left} bytes missing")
            left -= len(data)
        raise AssertionError("body never ended")

    def request(self) -> bytes | None:
        """A whole request: its head, the body read and dropped."""
        head = self.read_head()
        if head is not None:
            self.read_body(head)
        return head

    def give_up(self, mode: str, data: bytes) -> None:
        """Send ``data`` (maybe nothing) while the body is still coming, then end as ``mode`` says.

        The caller closes the socket afterwards; in ``reset`` mode that close, with unread bytes
        in the receive buffer, is what sends the reset.
        """
        if data:
            self.sock.sendall(data)
        if mode == "linger0":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "fin-stop":
            self.sock.shutdown(socket.SHUT_WR)
            self.release.wait(IO_WAIT)  # read nothing until the client is done
        elif mode == "fin-drain":
            self.sock.shutdown(socket.SHUT_WR)
            for _ in range(100_000):  # read the rest of the body (and the client's FIN)
                if not self.sock.recv(1 << 20):
                    break


Handler = Callable[[Peer, int], None]


class Server:
    """A thread serving one connection at a time on 127.0.0.1 with ``handler(peer, index)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.errors: list[BaseException] = []
        self.release = threading.Event()  # set when the client is done: ends ``fin-stop`` waits
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="early-answer-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _run(self) -> None:
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            index = self.connections
            self.connections += 1
            try:
                sock.settimeout(IO_WAIT)
                self.handler(Peer(sock, self.release), index)
            except OSError:
                pass  # the client reset or closed first: its side is what the test checks
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                sock.close()

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._stop.set()
        self._thread.join(IO_WAIT * 3)
        self.listener.close()
        assert not self._thread.is_alive(), "the server thread did not stop"
        assert not self.errors, self.errors


def serve_early(mode: str, data: bytes = TOO_LARGE) -> Server:
    """Every connection: read the head, answer ``data`` at once, give up as ``mode`` says."""

    def handler(peer: Peer, index: int) -> None:
        assert peer.read_head() is not None
        peer.give_up(mode, data)

    return Server(handler)


def timeout_for(mode: str) -> Timeout:
    return QUICK_WRITE if mode == "fin-stop" else T


def req(url: str, body: bytes = b"x" * BIG) -> Request:
    return Request("POST", url, Headers({"Content-Type": "application/json"}), body)


@contextmanager
def _expect_answer() -> Iterator[None]:
    """A reset may discard the answer from the client's buffer off Linux: accept that there."""
    try:
        yield
    except NoResponseError:
        if sys.platform.startswith("linux"):
            raise
        pytest.skip("this system discards received data on a reset (RST semantics)")


# -- urllib (sync) -----------------------------------------------------------------------------


@pytest.fixture
def transport() -> Iterator[UrllibTransport]:
    with UrllibTransport(trust_env=False) as t:
        yield t


def read_sync(resp: Any) -> bytes:
    parts = []
    for _ in range(10_000):
        chunk = resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


@pytest.mark.parametrize("mode", MODES)
def test_sync_early_413_is_returned(transport: UrllibTransport, mode: str) -> None:
    with serve_early(mode) as srv, _expect_answer():
        with transport.handle_request(req(srv.url), timeout_for(mode)) as resp:
            assert resp.status_code == 413
            assert resp.headers.get("content-type") == "application/json"
            assert read_sync(resp) == ERROR_BODY
        assert not transport._idle  # never pooled
        assert srv.connections == 1


def test_sync_no_answer_is_still_a_no_response_error(transport: UrllibTransport) -> None:
    # The server reads the head and closes with the body unread: a reset, and nothing before it.
    with serve_early("reset", b"") as srv:
        t0 = time.monotonic()
        with pytest.raises(NoResponseError) as info:
            transport.handle_request(req(srv.url), T)
        assert time.monotonic() - t0 < 3  # no wait for an answer that cannot come
        assert srv.connections == 1  # a fresh connection is never retried here
    assert not isinstance(info.value, RequestTimeoutError)
    assert f"sending the request to 127.0.0.1:{srv.port} failed" in str(info.value)


def test_sync_stalled_without_answer_is_still_a_write_timeout(transport: UrllibTransport) -> None:
    with serve_early("fin-stop", b"") as srv:
        with pytest.raises(RequestTimeoutError, match=r"\(write timeout\)"):
            transport.handle_request(req(srv.url), QUICK_WRITE)


def reused_then(mode: str, data: bytes) -> Handler:
    """Connection 0: one small request answered with keep-alive, then an early ``data`` (or
    nothing) as ``mode`` says for the next one.  Later connections: answer one request each."""

    def handler(peer: Peer, index: int) -> None:
        if index == 0:
            assert peer.request() is not None
            peer.sock.sendall(ok(b"first"))
            assert peer.read_head() is not None
            peer.give_up(mode, data)
            return
        if peer.request() is not None:
            peer.sock.sendall(answer(b"200 OK", b"fresh %d" % index, close=True))

    return handler


def test_sync_early_401_on_a_reused_connection(transport: UrllibTransport) -> None:
    with Server(reused_then("reset", UNAUTHORIZED)) as srv:
        with transport.handle_request(req(srv.url, b"{}"), T) as resp:
            assert read_sync(resp) == b"first"
        with _expect_answer(), transport.handle_request(req(srv.url), T) as resp:
            assert resp.status_code == 401  # the real answer, not a silent retry
            assert read_sync(resp) == UNAUTHORIZED_BODY
        # Keep-alive was offered, but the request never went out whole: not pooled.
        with transport.handle_request(req(srv.url, b"{}"), T) as resp:
            assert read_sync(resp) == b"fresh 1"
        assert srv.connections == 2


def test_sync_reused_connection_closed_before_any_byte_is_retried(
    transport: UrllibTransport,
) -> None:
    with Server(reused_then("reset", b"")) as srv:
        with transport.handle_request(req(srv.url, b"{}"), T) as resp:
            assert read_sync(resp) == b"first"
        with transport.handle_request(req(srv.url), T) as resp:  # sent again, whole, on conn 1
            assert resp.status_code == 200
            assert read_sync(resp) == b"fresh 1"
        assert srv.connections == 2


def test_sync_408_on_a_reused_connection_counts_as_stale(transport: UrllibTransport) -> None:
    # A 408 on a reused connection means the server gave up on the idle connection, not on
    # this request: sent again on a fresh connection, as browsers do.
    with Server(reused_then("reset", REQUEST_TIMEOUT)) as srv:
        with transport.handle_request(req(srv.url, b"{}"), T) as resp:
            assert read_sync(resp) == b"first"
        with transport.handle_request(req(srv.url), T) as resp:
            assert resp.status_code == 200
            assert read_sync(resp) == b"fresh 1"
        assert srv.connections == 2


def test_sync_client_raises_the_servers_413(transport: UrllibTransport) -> None:
    with serve_early("reset") as srv, _expect_answer():
        with R9S(api_key="k", server_url=srv.base_url, retry_config=None, client=transport) as c:
            with pytest.raises(R9SError) as info:
                c.chat.create(model="m", messages=[{"role": "user", "content": "x" * BIG}])
        err = info.value
        assert not isinstance(err, NoResponseError)
        assert err.status_code == 413
        assert ERROR_MESSAGE in err.message
        assert srv.connections == 1


# -- h11 on anyio (asyncio and trio) ---------------------------------------------------------


async def read_async(resp: Any) -> bytes:
    parts = []
    for _ in range(10_000):
        chunk = await resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_async_early_413_is_returned(anyio_backend: str, mode: str) -> None:
    async with H11Transport(trust_env=False) as t:
        with serve_early(mode) as srv, _expect_answer(), anyio.fail_after(15):
            resp = await t.handle_async_request(req(srv.url), timeout_for(mode))
            async with resp:
                assert resp.status_code == 413
                assert resp.headers.get("content-type") == "application/json"
                assert await read_async(resp) == ERROR_BODY
            assert t.stats.idle == 0 and t.stats.in_use == 0  # never pooled
            assert srv.connections == 1


@pytest.mark.anyio
async def test_async_no_answer_is_still_a_no_response_error(anyio_backend: str) -> None:
    async with H11Transport(trust_env=False) as t:
        with serve_early("reset", b"") as srv, anyio.fail_after(15):
            t0 = time.monotonic()
            with pytest.raises(NoResponseError) as info:
                await t.handle_async_request(req(srv.url), T)
            assert time.monotonic() - t0 < 3
            assert srv.connections == 1
        assert t.stats.in_use == 0
    assert not isinstance(info.value, RequestTimeoutError)
    assert f"sending the request to 127.0.0.1:{srv.port} failed" in str(info.value)


@pytest.mark.anyio
async def test_async_stalled_without_answer_is_still_a_write_timeout(anyio_backend: str) -> None:
    async with H11Transport(trust_env=False) as t:
        with serve_early("fin-stop", b"") as srv, anyio.fail_after(15):
            with pytest.raises(RequestTimeoutError, match="write timeout"):
                await t.handle_async_request(req(srv.url), QUICK_WRITE)
            assert srv.connections == 1
        assert t.stats.in_use == 0


@pytest.mark.anyio
async def test_async_early_401_on_a_reused_connection(anyio_backend: str) -> None:
    async with H11Transport(trust_env=False) as t:
        with Server(reused_then("reset", UNAUTHORIZED)) as srv, anyio.fail_after(15):
            async with await t.handle_async_request(req(srv.url, b"{}"), T) as resp:
                assert await read_async(resp) == b"first"
            with _expect_answer():
                async with await t.handle_async_request(req(srv.url), T) as resp:
                    assert resp.status_code == 401
                    assert await read_async(resp) == UNAUTHORIZED_BODY
                assert t.stats.stale_retries == 0  # returned, not retried
                assert t.stats.idle == 0  # keep-alive offered, but never pooled
                async with await t.handle_async_request(req(srv.url, b"{}"), T) as resp:
                    assert await read_async(resp) == b"fresh 1"
                assert srv.connections == 2


@pytest.mark.anyio
async def test_async_reused_connection_closed_before_any_byte_is_retried(
    anyio_backend: str,
) -> None:
    async with H11Transport(trust_env=False) as t:
        with Server(reused_then("reset", b"")) as srv, anyio.fail_after(15):
            async with await t.handle_async_request(req(srv.url, b"{}"), T) as resp:
                assert await read_async(resp) == b"first"
            async with await t.handle_async_request(req(srv.url), T) as resp:
                assert resp.status_code == 200
                assert await read_async(resp) == b"fresh 1"
            assert t.stats.stale_retries == 1
            assert srv.connections == 2


@pytest.mark.anyio
async def test_async_408_on_a_reused_connection_counts_as_stale(anyio_backend: str) -> None:
    async with H11Transport(trust_env=False) as t:
        with Server(reused_then("reset", REQUEST_TIMEOUT)) as srv, anyio.fail_after(15):
            async with await t.handle_async_request(req(srv.url, b"{}"), T) as resp:
                assert await read_async(resp) == b"first"
            async with await t.handle_async_request(req(srv.url), T) as resp:
                assert resp.status_code == 200
                assert await read_async(resp) == b"fresh 1"
            assert t.stats.stale_retries == 1
            assert srv.connections == 2


@pytest.mark.anyio
async def test_async_client_raises_the_servers_413(anyio_backend: str) -> None:
    transport = H11Transport(trust_env=False)
    with serve_early("reset") as srv, _expect_answer(), anyio.fail_after(15):
        async with R9S(
            api_key="k", server_url=srv.base_url, retry_config=None, async_client=transport
        ) as c:
            with pytest.raises(R9SError) as info:
                await c.chat.create_async(
                    model="m", messages=[{"role": "user", "content": "x" * BIG}]
                )
        await transport.aclose()
        err = info.value
        assert not isinstance(err, NoResponseError)
        assert err.status_code == 413
        assert ERROR_MESSAGE in err.message
        assert srv.connections == 1
