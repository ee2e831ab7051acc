"""Streamed request bodies (a multipart upload from a file) through both transports.

Against scripted servers on 127.0.0.1 (``_support/scripted_server.py``) that read each body as
it comes and keep only its length and SHA-256: 100 MB go from a file to the server through
the stdlib transport (sync) and the h11 one (asyncio and trio), in bounded memory
(``tracemalloc`` peak, asserted as a bound on memory, never on time).  Also: the chunked coding
when the length is unknown, an early ``413`` while the upload is going on, the
stale-connection retry (a rewindable body is re-sent whole; one that cannot be rewound never
goes on a pooled connection), a failing source, and the mock transport.

Every loop is bounded in count, every socket wait by the server's ``IO_TIMEOUT`` and every
await by ``anyio.fail_after``.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from _support.scripted_server import Conn, ScriptedServer, TLSFiles, response, wait_until

from r9s._core.headers import Headers
from r9s._core.multipart import CHUNK_SIZE, FilePart, MultipartBody
from r9s._core.request import (
    BodyReadError,
    IterableBody,
    Request,
    StreamedBody,
    Timeout,
    body_bytes,
)
from r9s.errors import NoResponseError, RequestTimeoutError
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.mock import MockResponse, MockTransport
from r9s.transports.urllib import UrllibTransport

T = Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
#: The big upload: a file of 100 MiB (plus a few hundred bytes of multipart framing).
BIG = 100 << 20
#: The most memory (traced Python allocations) one upload of ``BIG`` may take: a few pieces.
MEMORY_BOUND = 4 << 20
#: Bodies up to this size are also kept whole by the server, to be parsed.
KEEP = 16 << 20
MAX_REQUESTS = 20


# -- the server --------------------------------------------------------------------------------


@dataclass
class Received:
    """One request body as the server read it."""

    headers: dict[str, str]
    length: int
    sha256: str
    body: bytes | None  # the body itself when it is small (``KEEP``)
    complete: bool  # read to its declared end (Content-Length, or the last chunk)


class Sink:
    """Request bodies read off the wire, hashed as they come; one list for every connection."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def add(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)


class Reader:
    """Reads requests from a ``Conn`` socket with bounded loops, without holding bodies."""

    def __init__(self, conn: Conn) -> None:
        self.sock = conn.sock
        self.buf = b""
        self.space = bytearray(1 << 20)

    def _more(self) -> bytes:
        data: bytes = self.sock.recv(1 << 16)
        self.buf += data
        return data

    def head(self) -> dict[str, str] | None:
        """The next request's header fields (lower-case names), ``None`` at EOF."""
        for _ in range(1000):
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buf = self.buf[:end], self.buf[end + 4 :]
                lines = head.decode("latin-1").split("\r\n")[1:]
                return {
                    k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)
                }
            if len(self.buf) > 65536 or not self._more():
                return None
        raise AssertionError("request head never ended")

    def counted(self, n: int, digest: Any, keep: list[bytes] | None) -> int:
        """Read ``n`` body bytes into ``digest``; the number read (less at EOF)."""
        got = min(n, len(self.buf))
        first, self.buf = self.buf[:got], self.buf[got:]
        digest.update(first)
        if keep is not None:
            keep.append(first)
        view = memoryview(self.space)
        for _ in range(100_000):
            if got >= n:
                return got
            k = self.sock.recv_into(view, min(len(view), n - got))
            if not k:
                return got
            digest.update(view[:k])
            if keep is not None:
                keep.append(bytes(view[:k]))
            got += k
        raise AssertionError("body never ended")

    def line(self) -> bytes | None:
        for _ in range(1000):
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 2 :]
                return line
            if len(self.buf) > 4096 or not self._more():
                return None
        raise AssertionError("line never ended")

    def chunked(self, digest: Any, keep: list[bytes] | None) -> tuple[int, bool]:
        """Read a chunked body into ``digest``: ``(length, whether it ended properly)``."""
        total = 0
        for _ in range(1_000_000):
            line = self.line()
            if line is None:
                return total, False
            size = int(line.split(b";")[0], 16)
            if size == 0:
                return total, self.line() == b""  # no trailers from our clients
            if self.counted(size, digest, keep) != size:
                return total, False
            total += size
            if self.line() != b"":
                return total, False
        raise AssertionError("too many chunks")


def sink_script(sink: Sink, early: Callable[[Reader, dict[str, str]], bool] | None = None) -> Any:
    """A script reading requests and answering each with its length and hash, keep-alive.

    ``early(reader, headers)``, when given, runs after each head and may answer instead (it
    returns ``True`` when it did and the connection is done).
    """

    def script(conn: Conn) -> None:
        reader = Reader(conn)
        for _ in range(MAX_REQUESTS):
            headers = reader.head()
            if headers is None:
                return
            if early is not None and early(reader, headers):
                return
            digest = hashlib.sha256()
            length = int(headers.get("content-length", -1))
            keep: list[bytes] | None = [] if length <= KEEP else None
            if "chunked" in headers.get("transfer-encoding", ""):
                length, complete = reader.chunked(digest, keep)
            else:
                complete = reader.counted(length, digest, keep) == length
            sink.add(
                Received(
                    headers,
                    length,
                    digest.hexdigest(),
                    None if keep is None else b"".join(keep),
                    complete,
                )
            )
            if not complete:
                return
            answer = json.dumps({"length": length, "sha256": digest.hexdigest()}).encode()
            conn.sendall(response(answer, headers={"Content-Type": "application/json"}))

    return script


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def server(sink: Sink) -> Iterator[ScriptedServer]:
    with ScriptedServer(sink_script(sink)) as s:
        yield s


# -- the bodies --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``BIG`` bytes of a file, each MiB different."""
    path = tmp_path_factory.mktemp("upload") / "speech.mp3"
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(BIG >> 20):
            f.write(struct.pack(">Q", i) + block[8:])
    return path


def upload(path: Path) -> MultipartBody:
    return MultipartBody([("model", "whisper-1"), ("file", path), ("response_format", "json")])


def digest_of(body: StreamedBody) -> str:
    """The SHA-256 of ``body`` read once (it must be rewindable to be sent afterwards)."""
    digest = hashlib.sha256()
    for piece in body.pieces():
        digest.update(piece)
    return digest.hexdigest()


def request(url: str, body: StreamedBody | bytes, content_type: str | None = None) -> Request:
    if content_type is None:
        content_type = getattr(body, "content_type", "application/octet-stream")
    return Request("POST", url, Headers({"Content-Type": content_type}), body)


def generated(total: int, piece: int = 70_001) -> Iterator[bytes]:
    """``total`` deterministic bytes in pieces of ``piece`` (not a multiple of anything)."""
    sent = 0
    for i in range(total // piece + 1):
        n = min(piece, total - sent)
        if n <= 0:
            return
        yield bytes([i % 251]) * n
        sent += n


def read_sync(resp: Any) -> bytes:
    parts: list[bytes] = []
    for _ in range(10_000):
        chunk = resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


async def read_async(resp: Any) -> bytes:
    parts: list[bytes] = []
    for _ in range(10_000):
        chunk = await resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


@pytest.fixture
def transport() -> Iterator[UrllibTransport]:
    with UrllibTransport(trust_env=False) as t:
        yield t


@pytest.fixture
async def atransport() -> AsyncIterator[H11Transport]:
    async with H11Transport(trust_env=False) as t:
        yield t


# -- 100 MB from a file ------------------------------------------------------------------------


def test_sync_100mb_from_a_path_in_bounded_memory(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink, big_file: Path
) -> None:
    body = upload(big_file)
    assert body.length is not None and body.length > BIG
    expected = digest_of(body)
    tracemalloc.start()
    try:
        with transport.handle_request(
            request(server.url("/v1/audio/transcriptions"), body), T
        ) as r:
            answer = json.loads(read_sync(r))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200
    assert answer == {"length": body.length, "sha256": expected}
    [got] = sink.received
    assert got.headers["content-length"] == str(body.length)
    assert "transfer-encoding" not in got.headers
    assert got.headers["content-type"] == body.content_type
    assert (got.length, got.sha256, got.complete) == (body.length, expected, True)
    assert peak < MEMORY_BOUND, f"traced peak {peak} bytes for a {body.length}-byte upload"
    assert len(transport._idle) == 1  # the connection went back to the pool


@pytest.mark.anyio
async def test_async_100mb_from_a_path_in_bounded_memory(
    anyio_backend: str,
    atransport: H11Transport,
    server: ScriptedServer,
    sink: Sink,
    big_file: Path,
) -> None:
    body = upload(big_file)
    expected = digest_of(body)
    tracemalloc.start()
    try:
        with anyio.fail_after(60):
            r = await atransport.handle_async_request(
                request(server.url("/v1/audio/transcriptions"), body), T
            )
            async with r:
                answer = json.loads(await read_async(r))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200
    assert answer == {"length": body.length, "sha256": expected}
    [got] = sink.received
    assert got.headers["content-length"] == str(body.length)
    assert (got.length, got.sha256, got.complete) == (body.length, expected, True)
    assert peak < MEMORY_BOUND, f"traced peak {peak} bytes for a {body.length}-byte upload"
    assert atransport.stats.idle == 1 and atransport.stats.in_use == 0


def test_sync_open_file_at_an_offset(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink, tmp_path: Path
) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(b"SKIPME" + os.urandom(3 * CHUNK_SIZE + 5))
    with open(path, "rb") as f:
        f.seek(6)
        body = MultipartBody([("file", f), ("model", "m")])
        with transport.handle_request(request(server.url("/"), body), T) as r:
            read_sync(r)
    [got] = sink.received
    assert got.body is not None and got.length == body.length
    assert path.read_bytes()[6:] in got.body
    assert b"SKIPME" not in got.body


# -- unknown length: chunked -------------------------------------------------------------------


def test_sync_unknown_length_goes_chunked(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink
) -> None:
    total = 3_000_017
    for _ in range(2):
        with transport.handle_request(
            request(server.url("/"), IterableBody(generated(total))), T
        ) as r:
            assert json.loads(read_sync(r))["length"] == total
    assert len(sink.received) == 2
    for got in sink.received:
        assert got.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in got.headers
        assert got.complete and got.body == b"".join(generated(total))
    # An iterable cannot be rewound: each goes on a fresh connection, which is then pooled.
    assert server.connections == 2
    assert len(transport._idle[next(iter(transport._idle))]) == 2


@pytest.mark.anyio
async def test_async_unknown_length_goes_chunked(
    anyio_backend: str, atransport: H11Transport, server: ScriptedServer, sink: Sink
) -> None:
    total = 3_000_017
    with anyio.fail_after(20):
        for _ in range(2):
            r = await atransport.handle_async_request(
                request(server.url("/"), IterableBody(generated(total))), T
            )
            async with r:
                assert json.loads(await read_async(r))["length"] == total
    assert len(sink.received) == 2
    for got in sink.received:
        assert got.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in got.headers
        assert got.complete and got.body == b"".join(generated(total))
    assert server.connections == 2
    assert atransport.stats.idle == 2


def _pipe_upload(data: bytes) -> tuple[MultipartBody, threading.Thread, Any]:
    r, w = os.pipe()

    def write() -> None:
        with open(w, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    reader = open(r, "rb")
    body = MultipartBody([("model", "m"), ("file", FilePart(reader, "live.pcm"))])
    assert body.length is None and not body.rewindable
    writer.start()
    return body, writer, reader


def test_sync_pipe_multipart_goes_chunked(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink
) -> None:
    data = os.urandom(2_000_000)
    body, writer, reader = _pipe_upload(data)
    try:
        with transport.handle_request(request(server.url("/"), body), T) as r:
            read_sync(r)
    finally:
        writer.join(5)
        reader.close()
    [got] = sink.received
    assert got.headers.get("transfer-encoding") == "chunked"
    assert got.complete and got.body is not None and data in got.body


@pytest.mark.anyio
async def test_async_pipe_multipart_goes_chunked(
    anyio_backend: str, atransport: H11Transport, server: ScriptedServer, sink: Sink
) -> None:
    data = os.urandom(2_000_000)
    body, writer, reader = _pipe_upload(data)
    try:
        with anyio.fail_after(20):
            r = await atransport.handle_async_request(request(server.url("/"), body), T)
            async with r:
                await read_async(r)
    finally:
        writer.join(5)
        reader.close()
    [got] = sink.received
    assert got.headers.get("transfer-encoding") == "chunked"
    assert got.complete and got.body is not None and data in got.body


# -- an early answer while the body is going out -----------------------------------------------

TOO_LARGE = json.dumps({"error": {"message": "request body too large", "code": 413}}).encode()


class Counted:
    """A streamed body that counts the bytes the transport pulled out of it."""

    def __init__(self, inner: MultipartBody) -> None:
        self.inner = inner
        self.pulled = 0

    @property
    def length(self) -> int | None:
        return self.inner.length

    @property
    def rewindable(self) -> bool:
        return self.inner.rewindable

    def pieces(self) -> Iterator[bytes]:
        for piece in self.inner.pieces():
            self.pulled += len(piece)
            yield piece


def answer_413(how: str, read_first: int = 1 << 20) -> Callable[[Reader, dict[str, str]], bool]:
    """Read ``read_first`` body bytes, answer 413, then end as ``how`` says.

    ``reset``: close with the rest unread (the kernel sends a reset).  ``drain``: keep reading
    and dropping the whole body after answering (as nginx's lingering close does).
    """

    def early(reader: Reader, headers: dict[str, str]) -> bool:
        reader.counted(read_first, hashlib.sha256(), None)
        reader.sock.sendall(
            response(
                TOO_LARGE,
                status=413,
                reason="Payload Too Large",
                headers={"Content-Type": "application/json", "Connection": "close"},
            )
        )
        if how == "drain":
            for _ in range(100_000):
                if not reader.sock.recv(1 << 20):
                    break
        return True

    return early


@pytest.mark.parametrize("how", ["reset", "drain"])
def test_sync_early_413_mid_upload_is_returned(
    transport: UrllibTransport, sink: Sink, big_file: Path, how: str
) -> None:
    body = Counted(upload(big_file))
    with ScriptedServer(sink_script(sink, answer_413(how))) as server:
        with transport.handle_request(
            request(server.url("/"), body, "multipart/form-data"), T
        ) as r:
            assert r.status_code == 413
            assert read_sync(r) == TOO_LARGE
        assert not transport._idle  # never pooled
        assert server.connections == 1
    # The upload stopped once the answer was there: most of the file was never read.
    assert body.pulled < BIG // 2, body.pulled


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["reset", "drain"])
async def test_async_early_413_mid_upload_is_returned(
    anyio_backend: str, atransport: H11Transport, sink: Sink, big_file: Path, how: str
) -> None:
    body = Counted(upload(big_file))
    with ScriptedServer(sink_script(sink, answer_413(how))) as server, anyio.fail_after(30):
        r = await atransport.handle_async_request(
            request(server.url("/"), body, "multipart/form-data"), T
        )
        async with r:
            assert r.status_code == 413
            assert await read_async(r) == TOO_LARGE
        assert atransport.stats.idle == 0 and atransport.stats.in_use == 0
        assert server.connections == 1
    assert body.pulled < BIG // 2, body.pulled


# -- stale pooled connections ------------------------------------------------------------------


def stale_then_sink(sink: Sink) -> Any:
    """Connection 0: one request answered keep-alive, then the next one's head read and the
    connection reset (a server that gave up on it).  Later connections: the sink."""
    sinking = sink_script(sink)

    def script(conn: Conn) -> None:
        if conn.index == 0:
            reader = Reader(conn)
            headers = reader.head()
            assert headers is not None
            reader.counted(int(headers["content-length"]), hashlib.sha256(), None)
            conn.sendall(response(b"first"))
            assert reader.head() is not None
            conn.reset()
            return
        sinking(conn)

    return script


def test_sync_stale_connection_resends_a_rewindable_body_whole(
    transport: UrllibTransport, sink: Sink, tmp_path: Path
) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(os.urandom(8 << 20))
    body = upload(path)
    expected = digest_of(body)
    with ScriptedServer(stale_then_sink(sink)) as server:
        with transport.handle_request(request(server.url("/"), b"{}", "application/json"), T) as r:
            assert read_sync(r) == b"first"
        with transport.handle_request(request(server.url("/"), body), T) as r:
            assert json.loads(read_sync(r)) == {"length": body.length, "sha256": expected}
        assert server.connections == 2


@pytest.mark.anyio
async def test_async_stale_connection_resends_a_rewindable_body_whole(
    anyio_backend: str, atransport: H11Transport, sink: Sink, tmp_path: Path
) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(os.urandom(8 << 20))
    body = upload(path)
    expected = digest_of(body)
    with ScriptedServer(stale_then_sink(sink)) as server, anyio.fail_after(30):
        r = await atransport.handle_async_request(
            request(server.url("/"), b"{}", "application/json"), T
        )
        async with r:
            assert await read_async(r) == b"first"
        r = await atransport.handle_async_request(request(server.url("/"), body), T)
        async with r:
            assert json.loads(await read_async(r)) == {"length": body.length, "sha256": expected}
        assert atransport.stats.stale_retries == 1
        assert server.connections == 2


def test_sync_body_that_cannot_be_rewound_never_uses_a_pooled_connection(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink
) -> None:
    with transport.handle_request(request(server.url("/"), b"{}", "application/json"), T) as r:
        read_sync(r)
    assert len(transport._idle) == 1 and server.connections == 1
    once = IterableBody(generated(500_000), length=500_000)
    with transport.handle_request(request(server.url("/"), once), T) as r:
        assert json.loads(read_sync(r))["length"] == 500_000
    assert server.connections == 2  # a fresh connection
    assert sink.received[-1].complete


@pytest.mark.anyio
async def test_async_body_that_cannot_be_rewound_never_uses_a_pooled_connection(
    anyio_backend: str, atransport: H11Transport, server: ScriptedServer, sink: Sink
) -> None:
    with anyio.fail_after(20):
        r = await atransport.handle_async_request(
            request(server.url("/"), b"{}", "application/json"), T
        )
        async with r:
            await read_async(r)
        assert atransport.stats.idle == 1
        once = IterableBody(generated(500_000), length=500_000)
        r = await atransport.handle_async_request(request(server.url("/"), once), T)
        async with r:
            assert json.loads(await read_async(r))["length"] == 500_000
    assert server.connections == 2
    assert atransport.stats.reused == 0
    assert sink.received[-1].complete


# -- a server that stops reading ---------------------------------------------------------------

QUICK_WRITE = Timeout(connect=5.0, read=0.3, write=0.3, pool=5.0)


def stop_reading(conn: Conn) -> None:
    """Read the request head, then nothing more until the client goes away."""
    assert Reader(conn).head() is not None
    conn.hold(10)  # ended early by the server's close (the test is over by then)


def test_sync_stalled_upload_is_a_write_timeout(transport: UrllibTransport, big_file: Path) -> None:
    with ScriptedServer(stop_reading) as server:
        with pytest.raises(RequestTimeoutError, match="write timeout"):
            transport.handle_request(request(server.url("/"), upload(big_file)), QUICK_WRITE)
    assert not transport._idle


@pytest.mark.anyio
async def test_async_stalled_upload_is_a_write_timeout(
    anyio_backend: str, atransport: H11Transport, big_file: Path
) -> None:
    with ScriptedServer(stop_reading) as server, anyio.fail_after(20):
        with pytest.raises(RequestTimeoutError, match="write timeout"):
            await atransport.handle_async_request(
                request(server.url("/"), upload(big_file)), QUICK_WRITE
            )
    assert atransport.stats.in_use == 0 and atransport.stats.idle == 0


@pytest.mark.anyio
async def test_async_cancelled_upload_releases_the_connection_and_the_file(
    anyio_backend: str, atransport: H11Transport, big_file: Path
) -> None:
    body = Counted(upload(big_file))
    with ScriptedServer(stop_reading) as server:
        with anyio.move_on_after(0.3) as scope:
            await atransport.handle_async_request(request(server.url("/"), body), T)
        assert scope.cancelled_caught
        assert atransport.stats.in_use == 0 and atransport.stats.idle == 0
    assert 0 < body.pulled < BIG
    # The file the body opened was closed (an open one would warn: an error in this suite).
    assert body.inner.rewindable and digest_of(body.inner)


# -- a body whose source fails -----------------------------------------------------------------


def failing(after: int) -> Iterator[bytes]:
    yield from generated(after)
    raise OSError("the disk went away")


def overflowing() -> Iterator[bytes]:
    yield b"a" * 1000
    yield b"b" * 1000  # one byte too many for the declared 1999


def test_sync_source_failure_is_a_body_read_error(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink
) -> None:
    body = IterableBody(failing(1_000_000), length=5_000_000)
    with pytest.raises(BodyReadError, match="the disk went away") as info:
        transport.handle_request(request(server.url("/"), body), T)
    assert not isinstance(info.value, NoResponseError)
    assert not transport._idle
    with pytest.raises(BodyReadError, match="more than its declared 1999 bytes"):
        transport.handle_request(request(server.url("/"), IterableBody(overflowing(), 1999)), T)
    assert not transport._idle
    assert wait_until(lambda: len(sink.received) == 2)
    server.close()
    # Neither body was received whole, and not a byte past the declared length went out.
    assert [(r.complete, r.length <= 1999 or r.length == 5_000_000) for r in sink.received] == [
        (False, True),
        (False, True),
    ]


@pytest.mark.anyio
async def test_async_source_failure_is_a_body_read_error(
    anyio_backend: str, atransport: H11Transport, server: ScriptedServer, sink: Sink
) -> None:
    with anyio.fail_after(20):
        body = IterableBody(failing(1_000_000), length=5_000_000)
        with pytest.raises(BodyReadError, match="the disk went away"):
            await atransport.handle_async_request(request(server.url("/"), body), T)
        with pytest.raises(BodyReadError, match="more than its declared 1999 bytes"):
            await atransport.handle_async_request(
                request(server.url("/"), IterableBody(overflowing(), 1999)), T
            )
    assert atransport.stats.in_use == 0 and atransport.stats.idle == 0
    assert wait_until(lambda: len(sink.received) == 2)
    server.close()
    assert [r.complete for r in sink.received] == [False, False]


def test_source_shorter_than_declared_is_an_error(
    transport: UrllibTransport, server: ScriptedServer
) -> None:
    with pytest.raises(BodyReadError, match="ended after 3 of its declared 10 bytes"):
        transport.handle_request(request(server.url("/"), IterableBody([b"abc"], 10)), T)
    assert not transport._idle


# -- TLS ---------------------------------------------------------------------------------------


def test_sync_upload_over_tls(tls_files: TLSFiles, sink: Sink, tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(os.urandom(5 << 20))
    body = upload(path)
    expected = digest_of(body)
    with (
        ScriptedServer(sink_script(sink), ssl_context=tls_files.server_context()) as server,
        UrllibTransport(verify=str(tls_files.ca), trust_env=False) as t,
        t.handle_request(request(server.url("/"), body), T) as r,
    ):
        assert json.loads(read_sync(r)) == {"length": body.length, "sha256": expected}


@pytest.mark.anyio
async def test_async_upload_over_tls(
    anyio_backend: str, tls_files: TLSFiles, sink: Sink, tmp_path: Path
) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(os.urandom(5 << 20))
    body = upload(path)
    expected = digest_of(body)
    with ScriptedServer(sink_script(sink), ssl_context=tls_files.server_context()) as server:
        async with H11Transport(verify=str(tls_files.ca), trust_env=False) as t:
            with anyio.fail_after(30):
                r = await t.handle_async_request(request(server.url("/"), body), T)
                async with r:
                    assert json.loads(await read_async(r)) == {
                        "length": body.length,
                        "sha256": expected,
                    }


# -- the mock transport ------------------------------------------------------------------------


def test_mock_handler_gets_the_body_whole() -> None:
    seen: list[bytes] = []

    def handler(req: Request) -> MockResponse:
        assert isinstance(req.body, bytes)
        seen.append(req.body)
        return MockResponse.json({"ok": True})

    body = MultipartBody([("model", "m"), ("file", FilePart(b"abc", "a.wav"))])
    mock = MockTransport(handler)
    mock.handle_request(request("http://mock/v1", body), T)
    assert seen == [body_bytes(body)]
    assert mock.requests[0].body == seen[0]

    with pytest.raises(BodyReadError):  # a failing source fails before the handler runs
        mock.handle_request(request("http://mock/v1", IterableBody(failing(10), 100)), T)
    assert len(seen) == 1


@pytest.mark.anyio
async def test_mock_async_handler_gets_the_body_whole(anyio_backend: str) -> None:
    async def handler(req: Request) -> MockResponse:
        assert req.body == b"xyz"
        return MockResponse(200, content=b"ok")

    mock = MockTransport(handler)
    resp = await mock.handle_async_request(
        request("http://mock/v1", IterableBody([b"x", b"yz"])), T
    )
    assert await resp.read_chunk() == b"ok"


def test_bytes_bodies_are_unchanged(
    transport: UrllibTransport, server: ScriptedServer, sink: Sink
) -> None:
    # The hot path: a bytes body still goes with its Content-Length, and empty is announced.
    with transport.handle_request(request(server.url("/"), b'{"a":1}', "application/json"), T) as r:
        read_sync(r)
    with transport.handle_request(request(server.url("/"), b"", "application/json"), T) as r:
        read_sync(r)
    assert [(g.headers.get("content-length"), g.body) for g in sink.received] == [
        ("7", b'{"a":1}'),
        ("0", b""),
    ]
