"""The httpx adapter transports against the built-in server on 127.0.0.1, sync and async.

The async tests run under asyncio and trio (the ``anyio_backend`` fixture).  Every wait is
bounded: short transport timeouts, ``anyio.fail_after`` around async bodies, bounded read
loops; stalls end when the server closes.  No assertion is about elapsed time.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from r9s import R9S, errors
from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.errors import IncompleteResponseError, NoResponseError, RequestTimeoutError
from r9s.testing import FakeServer
from r9s.transports.base import AsyncResponse, AsyncTransport, SyncResponse, SyncTransport
from r9s.transports.httpx_adapter import (
    HttpxAsyncTransport,
    HttpxTransport,
    adapt_async,
    adapt_sync,
)
from r9s.transports.mock import MockResponse, MockTransport

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-adapter-secret-0123456789"
MSGS = [{"role": "user", "content": "Hello, how are you?"}]
ANSWER = "Hello! You said: Hello, how are you?"
#: Short enough that a hang fails fast, long enough for a loaded CI machine.
T = Timeout(connect=3.0, read=3.0, write=3.0, pool=3.0)
#: For the stall tests: the server goes silent, this read timeout ends the wait.
SHORT = Timeout(connect=3.0, read=0.3, write=3.0, pool=3.0)
#: Bound on the async tests' bodies.
LIMIT = 20


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(api_key=KEY) as s:
        yield s


def chat(
    server: FakeServer,
    *,
    stream: bool = False,
    fault: str | None = None,
    accept_encoding: str | None = "gzip, deflate",
    max_tokens: int | None = None,
) -> Request:
    """A chat request as r9s's core builds one (no Host, Content-Length)."""
    body: dict[str, Any] = {"model": "m", "messages": MSGS}
    if stream:
        body["stream"] = True
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": "r9s-python/test",
    }
    if accept_encoding is not None:
        headers["Accept-Encoding"] = accept_encoding
    if fault is not None:
        headers["X-R9S-Fault"] = fault
    return Request(
        "POST",
        f"{server.url}/chat/completions",
        Headers(headers),
        json.dumps(body).encode(),
        stream,
    )


def read_all(resp: SyncResponse) -> bytes:
    parts: list[bytes] = []
    for _ in range(100_000):
        chunk = resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


async def aread_all(resp: AsyncResponse) -> bytes:
    parts: list[bytes] = []
    for _ in range(100_000):
        chunk = await resp.read_chunk()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
    raise AssertionError("the body never ended")


def content_of(body: bytes) -> str:
    return str(json.loads(body)["choices"][0]["message"]["content"])


def text_of_events(body: bytes) -> str:
    """The streamed text of an SSE chat body; asserts it ends with ``[DONE]``."""
    events = [e for e in body.replace(b"\r\n", b"\n").split(b"\n\n") if e.strip()]
    assert events[-1] == b"data: [DONE]"
    text = ""
    for event in events[:-1]:
        assert event.startswith(b"data: ")
        for choice in json.loads(event[6:])["choices"]:
            text += choice["delta"].get("content") or ""
    return text


def closed_port() -> int:
    """A loopback port that was just listening and is not any more: connecting is refused."""
    with FakeServer() as s:
        port = s.port
    return port


def refused_request(port: int) -> Request:
    return Request(
        "POST",
        f"http://127.0.0.1:{port}/v1/chat/completions",
        Headers({"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}),
        b"{}",
    )


def assert_no_key(err: BaseException) -> None:
    seen: BaseException | None = err
    for _ in range(5):
        if seen is None:
            break
        assert KEY not in str(seen) and KEY not in repr(seen)
        seen = seen.__cause__ or seen.__context__


# -- recognising httpx clients ----------------------------------------------------------------


def test_adapt_recognises_httpx_clients_only() -> None:
    class MyClient(httpx.Client):
        pass

    mock = MockTransport(lambda request: MockResponse())
    with httpx.Client() as hc, MyClient() as mine:
        sync = adapt_sync(hc)
        assert isinstance(sync, HttpxTransport) and sync.client is hc
        assert isinstance(sync, SyncTransport)
        assert isinstance(adapt_sync(mine), HttpxTransport)
        assert adapt_async(hc) is None
    ac = httpx.AsyncClient()
    adapted = adapt_async(ac)
    assert isinstance(adapted, HttpxAsyncTransport) and adapted.client is ac
    assert isinstance(adapted, AsyncTransport)
    assert adapt_sync(ac) is None
    for other in (object(), mock, None, "httpx", httpx.Timeout(1.0)):
        assert adapt_sync(other) is None
        assert adapt_async(other) is None


def test_importing_the_adapter_does_not_import_httpx() -> None:
    code = textwrap.dedent(
        """
        import sys
        import r9s
        import r9s.transports.httpx_adapter as adapter
        from r9s.transports.mock import MockResponse, MockTransport

        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "httpcore", "anyio"))

        assert loaded() == [], loaded()
        for obj in (object(), None, MockTransport(lambda r: MockResponse()), r9s.R9S):
            assert adapter.adapt_sync(obj) is None and adapter.adapt_async(obj) is None
        assert loaded() == [], loaded()
        import httpx
        client = httpx.Client()
        assert isinstance(adapter.adapt_sync(client), adapter.HttpxTransport)
        client.close()
        print("ok")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# -- sync ------------------------------------------------------------------------------------


def test_sync_chat_sends_exactly_the_request(server: FakeServer) -> None:
    with httpx.Client(headers={"X-Org": "o1"}) as hc:
        t = HttpxTransport(hc)
        resp = t.handle_request(chat(server, accept_encoding=None), T)
        try:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("application/json")
            assert resp.headers.get("x-request-id", "").startswith("req_")
            assert content_of(read_all(resp)) == ANSWER
            assert resp.read_chunk() == b""  # and again at the end
        finally:
            resp.close()
        resp.close()  # idempotent
        rec = server.requests[-1]
        assert rec.method == "POST" and rec.path == "/v1/chat/completions"
        assert rec.json == {"model": "m", "messages": MSGS}
        assert rec.headers["authorization"] == f"Bearer {KEY}"
        assert rec.headers["user-agent"] == "r9s-python/test"  # r9s's field wins
        assert rec.headers["x-org"] == "o1"  # the client's own defaults still go
        assert "accept-encoding" not in rec.headers  # not httpx's "gzip, deflate, br, ..."
        t.close()
        assert not hc.is_closed  # the caller's client is the caller's


def test_sync_stream_read_to_the_end_reuses_the_connection(server: FakeServer) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        for _ in range(3):
            resp = t.handle_request(chat(server, stream=True), T)
            try:
                assert resp.headers["content-type"].startswith("text/event-stream")
                assert text_of_events(read_all(resp)) == ANSWER
            finally:
                resp.close()
    assert server.connections_opened == 1


def test_sync_gzip_body_arrives_raw(server: FakeServer) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        resp = t.handle_request(chat(server, fault="gzip"), T)
        try:
            assert resp.headers["content-encoding"] == "gzip"
            raw = read_all(resp)
        finally:
            resp.close()
        assert raw[:2] == b"\x1f\x8b"  # httpx did not decode it
        assert content_of(gzip.decompress(raw)) == ANSWER
        resp = t.handle_request(chat(server, stream=True, fault="gzip"), T)
        try:
            raw = read_all(resp)
        finally:
            resp.close()
        assert raw[:2] == b"\x1f\x8b"
        assert text_of_events(gzip.decompress(raw)) == ANSWER


@pytest.mark.parametrize(
    ("stream", "fault"), [(True, "cut_after=2"), (False, "short_body")], ids=["stream", "length"]
)
def test_sync_cut_body_is_incomplete(server: FakeServer, stream: bool, fault: str) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        resp = t.handle_request(chat(server, stream=stream, fault=fault), T)
        assert resp.status_code == 200
        with pytest.raises(IncompleteResponseError) as info:
            read_all(resp)
        assert f"127.0.0.1:{server.port}" in str(info.value)
        assert_no_key(info.value)
        with pytest.raises(NoResponseError):  # closed by the failure
            resp.read_chunk()
        resp.close()
        resp = t.handle_request(chat(server), T)  # the client still works
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()


def test_sync_stall_before_the_head_times_out(server: FakeServer) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        with pytest.raises(RequestTimeoutError, match="read timeout"):
            t.handle_request(chat(server, fault="stall_after=0,stall_seconds=5"), SHORT)


def test_sync_stall_mid_stream_times_out(server: FakeServer) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        resp = t.handle_request(
            chat(server, stream=True, fault="stall_after=1,stall_seconds=5"), SHORT
        )
        try:
            with pytest.raises(RequestTimeoutError, match="read timeout") as info:
                read_all(resp)
            assert_no_key(info.value)
        finally:
            resp.close()
        resp = t.handle_request(chat(server), T)
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()


def test_sync_per_read_timeout_is_honoured_on_http1(server: FakeServer) -> None:
    """``read_chunk(timeout=...)`` replaces the request's read timeout for that read only."""
    slow = Timeout(connect=3.0, read=10.0, write=3.0, pool=3.0)
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        resp = t.handle_request(chat(server, stream=True), slow)
        net = resp._response.extensions["network_stream"]  # type: ignore[attr-defined]
        parts = []
        for _ in range(10_000):
            chunk = resp.read_chunk(timeout=2.0)
            if not chunk:
                break
            parts.append(chunk)
        assert text_of_events(b"".join(parts)) == ANSWER
        assert "read" not in vars(net)  # httpcore's own method again
        resp.close()
        # The server stalls for 5 s, then closes: without the 0.2 s per-read timeout this
        # would end as an IncompleteResponseError, not as a read timeout.
        request = chat(server, stream=True, fault="stall_after=1,stall_seconds=5")
        resp = t.handle_request(request, slow)
        try:
            assert resp.read_chunk(timeout=2.0)
            with pytest.raises(RequestTimeoutError, match=r"for 0\.2 s \(read timeout\)"):
                for _ in range(1000):
                    assert resp.read_chunk(timeout=0.2)
        finally:
            resp.close()
        resp = t.handle_request(chat(server), T)
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()
    assert server.connections_opened == 2  # the first connection was reused, the stalled not


def test_sync_idle_timeout_through_r9s(server: FakeServer) -> None:
    with httpx.Client() as hc:
        with R9S(
            api_key=KEY, server_url=server.url, client=hc, retry_config=None, timeout_ms=10_000
        ) as c:
            with pytest.raises(errors.RequestTimeoutError, match="idle_timeout"):
                for _ in c.chat.create(
                    model="m",
                    messages=MSGS,
                    stream=True,
                    idle_timeout=0.3,
                    http_headers={"X-R9S-Fault": "stall_after=2,stall_seconds=5"},
                ):
                    pass
            assert c.chat.create(model="m", messages=MSGS).choices


def test_sync_connection_refused_is_no_response() -> None:
    port = closed_port()
    with httpx.Client() as hc:
        with pytest.raises(NoResponseError) as info:
            HttpxTransport(hc).handle_request(refused_request(port), T)
    err = info.value
    assert type(err) is NoResponseError and err.status_code is None
    assert f"127.0.0.1:{port}" in str(err)
    assert isinstance(err.__cause__, httpx.ConnectError)
    assert_no_key(err)


def test_sync_early_close_keeps_the_pool_usable(server: FakeServer) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(limits=limits) as hc:
        t = HttpxTransport(hc)
        for _ in range(3):
            resp = t.handle_request(chat(server, stream=True, max_tokens=200), T)
            assert resp.read_chunk()  # the first piece only
            resp.close()
            resp.close()
            with pytest.raises(NoResponseError, match="closed before"):
                resp.read_chunk()
        resp = t.handle_request(chat(server), T)  # one connection allowed: it was freed
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()
    # An abandoned response's connection is dropped, never handed to the next request.
    assert server.connections_opened == 4


def test_sync_bad_header_value_is_a_value_error_without_the_key(server: FakeServer) -> None:
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        for bad in (f"{KEY}\n", f"{KEY}\u00e9"):
            request = chat(server)._replace(
                headers=Headers({"Authorization": f"Bearer {bad}", "Content-Type": "x"})
            )
            with pytest.raises(ValueError) as info:
                t.handle_request(request, T)
            assert info.value.__cause__ is None and info.value.__suppress_context__
            assert KEY not in str(info.value)


def test_sync_client_settings_apply_and_r9s_timeouts_are_sent() -> None:
    """A client's own transport and redirect setting apply (here an ``httpx.MockTransport``)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/old":
            return httpx.Response(307, headers={"Location": "/new"})
        return httpx.Response(200, content=b"moved here")

    r = Request("POST", "http://example.test/old", Headers({"X-A": "1"}), b"x")
    limits = Timeout(connect=1.0, read=2.0, write=3.0, pool=None)
    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as hc:
        resp = HttpxTransport(hc).handle_request(r, limits)
        assert (resp.status_code, read_all(resp)) == (200, b"moved here")
        resp.close()
    assert seen[0].extensions["timeout"] == {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": None,
    }
    assert seen[0].headers["x-a"] == "1" and seen[0].content == b"x"
    with httpx.Client(transport=httpx.MockTransport(handler)) as hc:  # follow_redirects=False
        resp = HttpxTransport(hc).handle_request(r, limits)
        assert resp.status_code == 307 and resp.headers["location"] == "/new"
        resp.close()


def test_sync_a_body_httpx_already_read_is_handed_over_decoded() -> None:
    zipped = gzip.compress(b"plain text")
    gz = {"Content-Encoding": "gzip"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/content":  # httpx reads (and decodes) these at once
            return httpx.Response(200, headers=gz, content=zipped)
        return httpx.Response(200, headers=gz, stream=httpx.ByteStream(zipped))

    def consume(response: httpx.Response) -> None:
        for _ in response.iter_raw():
            pass

    def call(hc: httpx.Client, path: str) -> tuple[Headers, bytes]:
        r = Request("GET", f"http://example.test{path}", Headers(), b"")
        resp = HttpxTransport(hc).handle_request(r, T)
        try:
            return resp.headers, read_all(resp)
        finally:
            resp.close()

    with httpx.Client(transport=httpx.MockTransport(handler)) as hc:
        headers, body = call(hc, "/content")
        assert body == b"plain text" and "content-encoding" not in headers
        headers, body = call(hc, "/stream")
        assert body == zipped and headers["content-encoding"] == "gzip"  # raw
    hooks = {"response": [lambda response: response.read()]}
    with httpx.Client(transport=httpx.MockTransport(handler), event_hooks=hooks) as hc:
        headers, body = call(hc, "/stream")
        assert body == b"plain text" and "content-encoding" not in headers
    hooks = {"response": [consume]}
    with httpx.Client(transport=httpx.MockTransport(handler), event_hooks=hooks) as hc:
        with pytest.raises(RuntimeError, match="event hooks consumed the response body"):
            call(hc, "/stream")


def test_sync_end_to_end_through_r9s(server: FakeServer) -> None:
    with httpx.Client() as hc:
        transport = HttpxTransport(hc)
        with R9S(api_key=KEY, server_url=server.url, client=transport, retry_config=None) as c:
            assert c.chat.create(model="m", messages=MSGS).choices[0].message.content == ANSWER
            for fault in ({}, {"X-R9S-Fault": "gzip"}):
                res = c.chat.create(model="m", messages=MSGS, http_headers=fault)
                assert res.choices[0].message.content == ANSWER
                text = "".join(
                    ch.choices[0].delta.content or ""
                    for ch in c.chat.create(
                        model="m", messages=MSGS, stream=True, http_headers=fault
                    )
                    if ch.choices
                )
                assert text == ANSWER
            with pytest.raises(errors.IncompleteResponseError):
                for _ in c.chat.create(
                    model="m",
                    messages=MSGS,
                    stream=True,
                    http_headers={"X-R9S-Fault": "cut_after=2"},
                ):
                    pass
            for _ in c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=500):
                break  # abandoned: its connection is dropped
            assert c.chat.create(model="m", messages=MSGS).choices
        assert not hc.is_closed


def test_sync_r9s_adapts_a_plain_httpx_client(server: FakeServer) -> None:
    """``R9S(client=httpx.Client(...))`` as written for the published, httpx-based SDK."""
    limits = httpx.Limits(max_connections=1)
    with httpx.Client(limits=limits, headers={"X-Org": "o1"}) as hc:
        with R9S(api_key=KEY, server_url=server.url, client=hc, retry_config=None) as c:
            assert c.chat.create(model="m", messages=MSGS).choices[0].message.content == ANSWER
            with c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=500) as stream:
                for _ in stream:
                    break
            text = "".join(
                ch.choices[0].delta.content or ""
                for ch in c.chat.create(model="m", messages=MSGS, stream=True)
                if ch.choices
            )
            assert text == ANSWER
        assert not hc.is_closed
    assert server.requests[-1].headers["x-org"] == "o1"


def streamed_body_class() -> Any:
    """``IterableBody`` (streamed request bodies), or a skip where this tree has none."""
    import r9s._core.request as request_module

    cls = getattr(request_module, "IterableBody", None)
    if cls is None:
        pytest.skip("this tree has no streamed request bodies")
    return cls


def chat_pieces() -> list[bytes]:
    body = json.dumps({"model": "m", "messages": MSGS}).encode()
    return [body[:10], b"", body[10:30], body[30:]]


@pytest.mark.parametrize("known_length", [True, False], ids=["length", "chunked"])
def test_sync_streamed_request_body(server: FakeServer, known_length: bool) -> None:
    iterable_body = streamed_body_class()
    pieces = chat_pieces()
    length = sum(map(len, pieces)) if known_length else None
    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        request = chat(server)._replace(body=iterable_body(pieces, length))
        resp = t.handle_request(request, T)
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()
    rec = server.requests[-1]
    assert rec.json == {"model": "m", "messages": MSGS}
    if known_length:
        assert rec.headers["content-length"] == str(length)
    else:
        assert rec.headers["transfer-encoding"] == "chunked"


def test_sync_failing_request_body_is_a_body_read_error(server: FakeServer) -> None:
    iterable_body = streamed_body_class()
    from r9s._core.request import BodyReadError

    def failing() -> Iterator[bytes]:
        yield b'{"model":'
        raise OSError("the file vanished")

    with httpx.Client() as hc:
        t = HttpxTransport(hc)
        with pytest.raises(BodyReadError):
            t.handle_request(chat(server)._replace(body=iterable_body(failing())), T)
        resp = t.handle_request(chat(server), T)  # the client still works
        try:
            assert content_of(read_all(resp)) == ANSWER
        finally:
            resp.close()


# -- async: asyncio and trio -----------------------------------------------------------------


@pytest.mark.anyio
async def test_async_chat_and_stream_reuse_one_connection(
    server: FakeServer, anyio_backend: str
) -> None:
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient(headers={"X-Org": "o1"}) as ac:
            t = HttpxAsyncTransport(ac)
            resp = await t.handle_async_request(chat(server, accept_encoding=None), T)
            try:
                assert resp.status_code == 200
                assert content_of(await aread_all(resp)) == ANSWER
                assert await resp.read_chunk() == b""
            finally:
                await resp.aclose()
            await resp.aclose()
            rec = server.requests[-1]
            assert rec.headers["authorization"] == f"Bearer {KEY}"
            assert rec.headers["x-org"] == "o1" and "accept-encoding" not in rec.headers
            for _ in range(2):
                resp = await t.handle_async_request(chat(server, stream=True), T)
                try:
                    assert text_of_events(await aread_all(resp)) == ANSWER
                finally:
                    await resp.aclose()
            await t.aclose()
            assert not ac.is_closed
    assert server.connections_opened == 1


@pytest.mark.anyio
async def test_async_gzip_body_arrives_raw(server: FakeServer, anyio_backend: str) -> None:
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            t = HttpxAsyncTransport(ac)
            for stream in (False, True):
                resp = await t.handle_async_request(chat(server, stream=stream, fault="gzip"), T)
                try:
                    assert resp.headers["content-encoding"] == "gzip"
                    raw = await aread_all(resp)
                finally:
                    await resp.aclose()
                assert raw[:2] == b"\x1f\x8b"
                plain = gzip.decompress(raw)
                assert (text_of_events(plain) if stream else content_of(plain)) == ANSWER


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("stream", "fault"), [(True, "cut_after=2"), (False, "short_body")], ids=["stream", "length"]
)
async def test_async_cut_body_is_incomplete(
    server: FakeServer, anyio_backend: str, stream: bool, fault: str
) -> None:
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            t = HttpxAsyncTransport(ac)
            resp = await t.handle_async_request(chat(server, stream=stream, fault=fault), T)
            with pytest.raises(IncompleteResponseError) as info:
                await aread_all(resp)
            assert_no_key(info.value)
            with pytest.raises(NoResponseError):
                await resp.read_chunk()
            await resp.aclose()
            resp = await t.handle_async_request(chat(server), T)
            try:
                assert content_of(await aread_all(resp)) == ANSWER
            finally:
                await resp.aclose()


@pytest.mark.anyio
async def test_async_stalls_time_out(server: FakeServer, anyio_backend: str) -> None:
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            t = HttpxAsyncTransport(ac)
            with pytest.raises(RequestTimeoutError, match="read timeout"):
                await t.handle_async_request(
                    chat(server, fault="stall_after=0,stall_seconds=5"), SHORT
                )
            request = chat(server, stream=True, fault="stall_after=1,stall_seconds=5")
            resp = await t.handle_async_request(request, SHORT)
            try:
                with pytest.raises(RequestTimeoutError, match="read timeout"):
                    await aread_all(resp)
            finally:
                await resp.aclose()
            # A per-read timeout shorter than the request's (T: 3 s) is honoured here.
            resp = await t.handle_async_request(request, T)
            try:
                assert await resp.read_chunk(timeout=2.0)
                with pytest.raises(RequestTimeoutError, match="read timeout"):
                    for _ in range(1000):
                        assert await resp.read_chunk(timeout=0.2)
            finally:
                await resp.aclose()
            resp = await t.handle_async_request(chat(server), T)
            try:
                assert content_of(await aread_all(resp)) == ANSWER
            finally:
                await resp.aclose()


@pytest.mark.anyio
async def test_async_connection_refused_is_no_response(anyio_backend: str) -> None:
    port = closed_port()
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            with pytest.raises(NoResponseError) as info:
                await HttpxAsyncTransport(ac).handle_async_request(refused_request(port), T)
    err = info.value
    assert type(err) is NoResponseError and f"127.0.0.1:{port}" in str(err)
    assert_no_key(err)


@pytest.mark.anyio
async def test_async_early_close_keeps_the_pool_usable(
    server: FakeServer, anyio_backend: str
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient(limits=limits) as ac:
            t = HttpxAsyncTransport(ac)
            resp = await t.handle_async_request(chat(server, stream=True, max_tokens=200), T)
            assert await resp.read_chunk()
            await resp.aclose()
            with pytest.raises(NoResponseError, match="closed before"):
                await resp.read_chunk()
            # Closing while the caller is being cancelled still releases the connection.
            resp = await t.handle_async_request(chat(server, stream=True), T)
            assert await resp.read_chunk()
            with anyio.CancelScope() as scope:
                scope.cancel()
                await resp.aclose()
            resp = await t.handle_async_request(chat(server), T)
            try:
                assert content_of(await aread_all(resp)) == ANSWER
            finally:
                await resp.aclose()
    assert server.connections_opened == 3


@pytest.mark.anyio
async def test_async_end_to_end_through_r9s(server: FakeServer, anyio_backend: str) -> None:
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            transport = HttpxAsyncTransport(ac)
            async with R9S(
                api_key=KEY, server_url=server.url, async_client=transport, retry_config=None
            ) as c:
                for fault in ({}, {"X-R9S-Fault": "gzip"}):
                    res = await c.chat.create_async(model="m", messages=MSGS, http_headers=fault)
                    assert res.choices[0].message.content == ANSWER
                    stream = await c.chat.create_async(
                        model="m", messages=MSGS, stream=True, http_headers=fault
                    )
                    text = "".join(
                        [ch.choices[0].delta.content or "" async for ch in stream if ch.choices]
                    )
                    assert text == ANSWER
                with pytest.raises(errors.IncompleteResponseError):
                    async for _ in await c.chat.create_async(
                        model="m",
                        messages=MSGS,
                        stream=True,
                        http_headers={"X-R9S-Fault": "cut_after=2"},
                    ):
                        pass
                assert (await c.chat.create_async(model="m", messages=MSGS)).choices
            assert not ac.is_closed


@pytest.mark.anyio
async def test_async_r9s_adapts_a_plain_httpx_client(
    server: FakeServer, anyio_backend: str
) -> None:
    limits = httpx.Limits(max_connections=1)
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient(limits=limits) as ac:
            async with R9S(
                api_key=KEY, server_url=server.url, async_client=ac, retry_config=None
            ) as c:
                res = await c.chat.create_async(model="m", messages=MSGS)
                assert res.choices[0].message.content == ANSWER
                stream = await c.chat.create_async(
                    model="m", messages=MSGS, stream=True, max_tokens=500
                )
                async with stream:
                    async for _ in stream:
                        break
                assert (await c.chat.create_async(model="m", messages=MSGS)).choices
            assert not ac.is_closed


@pytest.mark.anyio
@pytest.mark.parametrize("known_length", [True, False], ids=["length", "chunked"])
async def test_async_streamed_request_body(
    server: FakeServer, anyio_backend: str, known_length: bool
) -> None:
    iterable_body = streamed_body_class()
    pieces = chat_pieces()
    length = sum(map(len, pieces)) if known_length else None
    with anyio.fail_after(LIMIT):
        async with httpx.AsyncClient() as ac:
            t = HttpxAsyncTransport(ac)
            request = chat(server)._replace(body=iterable_body(pieces, length))
            resp = await t.handle_async_request(request, T)
            try:
                assert content_of(await aread_all(resp)) == ANSWER
            finally:
                await resp.aclose()
    assert server.requests[-1].json == {"model": "m", "messages": MSGS}
