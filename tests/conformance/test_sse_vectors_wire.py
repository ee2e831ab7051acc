"""The conformance vectors end to end: served on 127.0.0.1, read through both transports.

A scripted server thread (``ScriptedServer`` running ``answer_once``) answers
``GET /<vector>/<mode>`` with the vector's bytes as a ``200`` ``text/event-stream`` response,
framed per mode: chunked, one chunk (one ``sendall``) per 1, 5 or 64 bytes, or one
``Content-Length`` body.  The raw body is read with ``UrllibTransport`` (sync) and
``H11Transport`` (async, under asyncio and trio), each piece fed to ``SSEDecoder`` as it
arrives; the events must be the vector's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import anyio
import pytest
from _conformance import PASSED, Outcome, check, chunked_writes
from _support.scripted_server import ScriptedServer, answer_once
from _vectors import VECTORS, Vector

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s._core.sse import SSEDecoder
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.urllib import UrllibTransport

T = Timeout(connect=5.0, read=5.0, write=5.0, pool=5.0)
#: Bound on the reads of one body (the longest vector is about 4 KiB, read 1 byte at a time).
MAX_READS = 20_000
MODES = ["chunked-1", "chunked-5", "chunked-64", "content-length"]
ids = [v.name for v in VECTORS]


def respond(target: str) -> Sequence[bytes]:
    _, index, mode = target.split("/")
    vector = VECTORS[int(index)]
    head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-cache\r\n" % (
        vector.content_type.encode("ascii")
    )
    if mode == "content-length":
        return [head + b"Content-Length: %d\r\n\r\n" % len(vector.body) + vector.body]
    size = int(mode.removeprefix("chunked-"))
    return [head + b"Transfer-Encoding: chunked\r\n\r\n", *chunked_writes(vector.body, size)]


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(answer_once(lambda request: respond(request.target))) as s:
        yield s
        assert not s.errors, s.errors


def request(server: ScriptedServer, vector: Vector, mode: str) -> Request:
    url = server.url(f"/{VECTORS.index(vector)}/{mode}")
    return Request("GET", url, Headers({"Accept": "text/event-stream"}), stream=True)


def check_pieces(mode: str, pieces: list[bytes], vector: Vector, *, joins: bool = False) -> None:
    """The body arrived whole; with ``joins=False`` each piece is at most one HTTP chunk.

    Both transports now decode the chunked coding with the core's ``ChunkedDecoder`` and
    return every chunk already received as one piece (fewer decoder calls), so for them only
    the non-empty pieces and the whole body are checked.
    """
    assert b"".join(pieces) == vector.body
    assert all(len(p) > 0 for p in pieces)
    if mode.startswith("chunked-") and not joins:  # the chunking reached the decoder
        size = int(mode.removeprefix("chunked-"))
        assert all(len(p) <= size for p in pieces)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_urllib(server: ScriptedServer, vector: Vector, mode: str) -> None:
    dec = SSEDecoder()
    out = Outcome()
    pieces: list[bytes] = []
    with UrllibTransport(trust_env=False) as transport:
        with transport.handle_request(request(server, vector, mode), T) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"] == vector.content_type
            for _ in range(MAX_READS):
                piece = resp.read_chunk()
                if not piece:
                    break
                pieces.append(piece)
                out.fed += dec.feed(piece)
            else:
                raise AssertionError("the body never ended")
    out.ended = dec.end()
    check_pieces(mode, pieces, vector, joins=True)
    check(vector, out)
    PASSED[f"urllib: {mode}"].add(vector.name)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("vector", VECTORS, ids=ids)
async def test_h11(server: ScriptedServer, vector: Vector, mode: str, anyio_backend: str) -> None:
    dec = SSEDecoder()
    out = Outcome()
    pieces: list[bytes] = []
    with anyio.fail_after(20):
        async with H11Transport(trust_env=False) as transport:
            resp = await transport.handle_async_request(request(server, vector, mode), T)
            async with resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"] == vector.content_type
                for _ in range(MAX_READS):
                    piece = await resp.read_chunk()
                    if not piece:
                        break
                    pieces.append(piece)
                    out.fed += dec.feed(piece)
                else:
                    raise AssertionError("the body never ended")
    out.ended = dec.end()
    check_pieces(mode, pieces, vector, joins=True)
    check(vector, out)
    PASSED[f"h11 ({anyio_backend}): {mode}"].add(vector.name)
