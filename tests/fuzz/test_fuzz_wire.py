"""Transports fed arbitrary bytes after a valid status line and headers, on 127.0.0.1.

A scripted server thread (``answer_once``) answers with ``200`` headers declaring
``Transfer-Encoding: chunked`` or a random ``Content-Length``, then hypothesis-generated body
bytes (random, or a valid chunked body cut short or with a byte changed), then closes.  Reading
to the end must finish within the 0.5 s read timeout with ``b""`` or one of
``NoResponseError``'s subclasses (or ``ResponseValidationError``); where the framing makes the
answer certain (a Content-Length, an intact or cut chunked body), the bytes read must be it.

``UrllibTransport`` runs every example; ``H11Transport`` runs them under asyncio only, to keep
the time down: its trio path is the same code over another anyio backend, which the
conformance tests run on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from _support.scripted_server import ScriptedServer, answer_once
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.errors import IncompleteResponseError, NoResponseError, R9SError, ResponseValidationError
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.urllib import UrllibTransport

T = Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)
#: An example must end well within this (the read timeout plus slack for a loaded machine).
BOUND = 3.0
MAX_READS = 10_000
#: How long a held connection stays open after its answer (unless the client closes it).
HOLD = 2.0
ALLOWED = (NoResponseError, ResponseValidationError)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(answer_once(b"")) as s:
        yield s


def chunked(data: bytes, sizes: list[int]) -> bytes:
    out, i = [], 0
    for size in sizes:
        if i >= len(data):
            break
        piece = data[i : i + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        i += size
    if i < len(data):
        out.append(b"%x\r\n%s\r\n" % (len(data) - i, data[i:]))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


#: (framing header, body bytes, expected body or None when unknown, whether it may be cut)
Case = tuple[bytes, bytes, bytes | None, bool]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["length", "chunked-random", "chunked-valid"]))
    if kind == "length":
        payload = draw(st.binary(max_size=300))
        n = draw(st.integers(0, len(payload) + 30))
        return b"Content-Length: %d" % n, payload, payload[:n], len(payload) < n
    te = b"Transfer-Encoding: chunked"
    if kind == "chunked-random":
        tokens = st.sampled_from([b"0", b"1", b"a", b"f", b"\r\n", b";x=y", b" ", b"-1", b"x"])
        junk = draw(st.one_of(st.binary(max_size=200), st.lists(tokens, max_size=30).map(b"".join)))
        return te, junk, None, False
    data = draw(st.binary(max_size=200))
    body = chunked(data, draw(st.lists(st.integers(1, 64), max_size=10)))
    how = draw(st.sampled_from(["intact", "cut", "changed"]))
    if how == "intact":
        return te, body + draw(st.binary(max_size=20)), data, False  # junk after the end: ignored
    at = draw(st.integers(0, len(body) - 1))
    if how == "cut":
        return te, body[:at], data, True
    changed = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
    return te, changed, None, False


def answer(framing: bytes, payload: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s\r\n\r\n%s" % (
        framing,
        payload,
    )


def judge(case: Case, received: bytes, error: R9SError | None, elapsed: float) -> None:
    framing, _payload, expected, may_be_cut = case
    assert elapsed < BOUND, elapsed
    if expected is None:
        return  # ended in b"" or an allowed error: both fine
    if error is None:
        assert received == expected
    else:
        assert may_be_cut, error
        assert isinstance(error, NoResponseError), error
        assert expected.startswith(received)
        if framing.startswith(b"Content-Length"):
            assert isinstance(error, IncompleteResponseError)


def request(server: ScriptedServer) -> Request:
    url = server.url("/v1/chat/completions")
    return Request("GET", url, Headers({"Accept": "text/event-stream"}), stream=True)


@settings(max_examples=50, deadline=None)
@given(case=cases())
def test_urllib_ends_cleanly_or_with_no_response_error(server: ScriptedServer, case: Case) -> None:
    server.script = answer_once(answer(case[0], case[1]))
    received, error = b"", None
    start = time.monotonic()
    with UrllibTransport(trust_env=False) as transport:
        try:
            with transport.handle_request(request(server), T) as resp:
                assert resp.status_code == 200
                for _ in range(MAX_READS):
                    piece = resp.read_chunk()
                    if not piece:
                        break
                    received += piece
                else:
                    raise AssertionError("the body never ended")
        except ALLOWED as exc:
            error = exc
    judge(case, received, error, time.monotonic() - start)


@settings(max_examples=50, deadline=None)
@given(case=cases())
def test_h11_ends_cleanly_or_with_no_response_error(server: ScriptedServer, case: Case) -> None:
    server.script = answer_once(answer(case[0], case[1]))

    async def read() -> tuple[bytes, R9SError | None]:
        received, error = b"", None
        with anyio.fail_after(BOUND):
            async with H11Transport(trust_env=False) as transport:
                try:
                    resp = await transport.handle_async_request(request(server), T)
                    async with resp:
                        assert resp.status_code == 200
                        for _ in range(MAX_READS):
                            piece = await resp.read_chunk()
                            if not piece:
                                break
                            received += piece
                        else:
                            raise AssertionError("the body never ended")
                except ALLOWED as exc:
                    error = exc
        return received, error

    start = time.monotonic()
    received, error = anyio.run(read, backend="asyncio")
    judge(case, received, error, time.monotonic() - start)


def test_a_stalled_body_times_out_within_the_read_timeout(server: ScriptedServer) -> None:
    # The one wait the fuzz above never reaches (its server always closes): bytes stop coming
    # but the connection stays open.  Both transports give up after the 0.5 s read timeout.
    server.script = answer_once(answer(b"Content-Length: 10", b"12345"), hold=HOLD)
    for run in ("urllib", "h11"):
        start = time.monotonic()
        if run == "urllib":
            with UrllibTransport(trust_env=False) as transport:
                with pytest.raises(NoResponseError, match="read timeout"):
                    with transport.handle_request(request(server), T) as resp:
                        for _ in range(10):
                            resp.read_chunk()
        else:

            async def read() -> None:
                async with H11Transport(trust_env=False) as transport:
                    resp = await transport.handle_async_request(request(server), T)
                    async with resp:
                        for _ in range(10):
                            await resp.read_chunk()

            with pytest.raises(NoResponseError, match="read timeout"):
                anyio.run(read, backend="asyncio")
        assert time.monotonic() - start < BOUND


def test_h11_never_reuses_a_connection_with_surplus_bytes(server: ScriptedServer) -> None:
    surplus = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!"
    server.script = answer_once(answer(b"Content-Length: 2", b"ok" + surplus), hold=HOLD)

    async def two_requests() -> list[bytes]:
        bodies = []
        with anyio.fail_after(10):
            async with H11Transport(trust_env=False) as transport:
                for _ in range(2):
                    resp = await transport.handle_async_request(request(server), T)
                    async with resp:
                        body = b""
                        while piece := await resp.read_chunk():
                            body += piece
                    bodies.append(body)
        return bodies

    assert anyio.run(two_requests, backend="asyncio") == [b"ok", b"ok"]
