"""UrllibTransport against scripted servers on 127.0.0.1: pooling, framing, errors, TLS, proxies.

Every server here is a thread-per-connection script (``_support/scripted_server.py``) that can
misbehave on purpose.  Timeouts are short (0.2 s where a timeout is the point), every wait is
bounded.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _support.scripted_server import (
    Conn,
    ReceivedRequest,
    Script,
    ScriptedServer,
    chunk,
    chunked,
    free_port,
    keepalive,
    relay,
    response,
    server_context,
)

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.errors import IncompleteResponseError, NoResponseError, RequestTimeoutError
from r9s.transports.base import SyncResponse, SyncTransport
from r9s.transports.urllib import UrllibResponse, UrllibTransport

T = Timeout(connect=2.0, read=2.0, write=2.0, pool=2.0)
SHORT = Timeout(connect=0.2, read=0.2, write=0.2, pool=0.2)
WAIT = 5.0  # bound on every Event wait in a handler

PROXY_VARS = [f"{n}_proxy" for n in ("http", "https", "all", "no")]
PROXY_VARS += [v.upper() for v in PROXY_VARS]


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def transport() -> Iterator[UrllibTransport]:
    with UrllibTransport(trust_env=False) as t:
        yield t


def req(
    url: str,
    body: bytes = b'{"model": "m"}',
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    method: str = "POST",
) -> Request:
    return Request(method, url, Headers(headers or {}), body)


def read_all(resp: SyncResponse, timeout: float | None = None) -> bytes:
    parts = []
    for _ in range(100_000):
        c = resp.read_chunk(timeout)
        if not c:
            return b"".join(parts)
        parts.append(c)
    raise AssertionError("body never ended")


def fetch(
    t: UrllibTransport, url: str, timeout: Timeout = T, **kw: Any
) -> tuple[int, Headers, bytes]:
    with t.handle_request(req(url, **kw), timeout) as r:
        return r.status_code, r.headers, read_all(r)


def ok(body: bytes = b"hello") -> Script:
    return keepalive(lambda r: response(body))


# -- protocol and basics -------------------------------------------------------------------


def test_satisfies_the_sync_protocols(transport: UrllibTransport) -> None:
    assert isinstance(transport, SyncTransport)
    with ScriptedServer(ok()) as srv, transport.handle_request(req(srv.url()), T) as r:
        assert isinstance(r, SyncResponse)
        assert isinstance(r, UrllibResponse)
        assert r.status_code == 200
        assert read_all(r) == b"hello"


def test_keepalive_100_sequential_requests_use_one_connection(
    transport: UrllibTransport,
) -> None:
    with ScriptedServer(keepalive(lambda r: response(b"pong:" + r.body))) as srv:
        for i in range(100):
            status, _, body = fetch(transport, srv.url("/v1/x"), body=b"%d" % i)
            assert (status, body) == (200, b"pong:%d" % i)
        assert srv.connections == 1


def test_content_length_body_is_reassembled_and_connection_reused(
    transport: UrllibTransport,
) -> None:
    payload = os.urandom(200_000)
    with ScriptedServer(keepalive(lambda r: response(payload))) as srv:
        with transport.handle_request(req(srv.url()), T) as r:
            pieces = []
            while c := r.read_chunk():
                assert len(c) <= 65536
                pieces.append(c)
        assert b"".join(pieces) == payload
        assert fetch(transport, srv.url())[2] == payload
        assert srv.connections == 1


def test_chunked_body_is_unframed_and_connection_reused(transport: UrllibTransport) -> None:
    app = keepalive(lambda r: chunked([b"abc", b"defg", b"h" * 70000]))
    with ScriptedServer(app) as srv:
        for _ in range(3):
            status, _, body = fetch(transport, srv.url())
            assert (status, body) == (200, b"abcdefg" + b"h" * 70000)
        assert srv.connections == 1


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_read_chunk_streams_before_the_body_is_complete(
    transport: UrllibTransport, framing: str
) -> None:
    go = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        if framing == "chunked":
            conn.sendall(chunked([b"part1"], end=False))
            assert go.wait(WAIT)
            conn.sendall(chunk(b"part2") + b"0\r\n\r\n")
        else:
            conn.sendall(response(b"part1", length=10))
            assert go.wait(WAIT)
            conn.sendall(b"part2")
        conn.read_request()  # until the client closes

    with (
        ScriptedServer(handler, release=[go]) as srv,
        transport.handle_request(req(srv.url()), T) as r,
    ):
        assert r.read_chunk() == b"part1"  # the rest is held back until `go`
        go.set()
        assert read_all(r) == b"part2"
        assert r.read_chunk() == b""


def test_request_on_the_wire(transport: UrllibTransport) -> None:
    with ScriptedServer(keepalive(lambda r: response(b"{}"))) as srv:
        headers = [
            ("Authorization", "Bearer sk-x"),
            ("Content-Type", "application/json"),
            ("Content-Length", "999"),  # the transport's own: replaced
            ("Accept-Encoding", "gzip"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
        ]
        fetch(transport, srv.url("/v1/chat/completions?a=1&b=2"), headers=headers, body=b"abc")
        fetch(transport, srv.url("/v1/models"), method="GET", body=b"")
    post, get = srv.requests
    assert (post.method, post.target, post.version) == (
        "POST",
        "/v1/chat/completions?a=1&b=2",
        "HTTP/1.1",
    )
    assert post.header_list("host") == [f"127.0.0.1:{srv.port}"]
    assert post.headers[0][0] == "Host"
    assert post.header_list("content-length") == ["3"]
    assert post.header_list("accept-encoding") == ["gzip"]  # ours only, no "identity"
    assert post.header_list("x-multi") == ["1", "2"]
    assert post.header("authorization") == "Bearer sk-x"
    assert post.body == b"abc"
    assert [k.lower() for k, _ in post.headers] == [
        "host",
        "authorization",
        "content-type",
        "accept-encoding",
        "x-multi",
        "x-multi",
        "content-length",
    ]
    assert get.method == "GET"
    assert get.header("content-length") is None
    assert get.header("accept-encoding") is None
    assert get.header_list("host") == [f"127.0.0.1:{srv.port}"]


def test_response_headers_keep_order_and_repeats(transport: UrllibTransport) -> None:
    hdrs = [("Set-Cookie", "a=1"), ("X-Request-Id", "rid-1"), ("Set-Cookie", "b=2")]
    with ScriptedServer(keepalive(lambda r: response(b"x", headers=hdrs))) as srv:
        _, headers, _ = fetch(transport, srv.url())
    names = [k.lower() for k, _ in headers.raw()]
    assert names == ["set-cookie", "x-request-id", "set-cookie", "content-length"]
    assert headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert headers["x-request-id"] == "rid-1"


def test_gzip_body_is_passed_through_undecoded(transport: UrllibTransport) -> None:
    raw = gzip.compress(b"hello " * 1000)
    app = keepalive(lambda r: response(raw, headers=[("Content-Encoding", "gzip")]))
    with ScriptedServer(app) as srv:
        _, headers, body = fetch(transport, srv.url(), headers={"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip"
    assert body == raw


def test_redirect_is_returned_not_followed(transport: UrllibTransport) -> None:
    app = keepalive(
        lambda r: response(status=302, reason="Found", headers=[("Location", "/elsewhere")])
    )
    with ScriptedServer(app) as srv:
        status, headers, body = fetch(transport, srv.url("/here"))
    assert (status, headers["location"], body) == (302, "/elsewhere", b"")
    assert [r.target for r in srv.requests] == ["/here"]


def test_bodyless_responses_end_at_once_and_are_reused(transport: UrllibTransport) -> None:
    def app(r: ReceivedRequest) -> bytes:
        if r.method == "HEAD":
            return response(length=5)  # a HEAD answer declares a length but has no body
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    with ScriptedServer(keepalive(app)) as srv:
        assert fetch(transport, srv.url())[:1] == (204,)
        assert fetch(transport, srv.url(), method="HEAD", body=b"") == (
            200,
            Headers({"content-length": "5"}),
            b"",
        )
        assert fetch(transport, srv.url())[0] == 204
        assert srv.connections == 1


def test_body_delimited_by_close_is_read_to_eof_and_not_reused(
    transport: UrllibTransport,
) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of ")
        conn.sendall(b"it")

    with ScriptedServer(handler) as srv:
        assert fetch(transport, srv.url())[2] == b"all of it"
        assert fetch(transport, srv.url())[2] == b"all of it"
        assert srv.connections == 2


# -- connection errors -----------------------------------------------------------------------


def test_connection_refused_is_a_prompt_no_response_error(transport: UrllibTransport) -> None:
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(NoResponseError) as ei:
        transport.handle_request(
            req(f"http://127.0.0.1:{port}/", headers={"Authorization": "Bearer sk-secret"}), T
        )
    assert time.monotonic() - t0 < 1.0
    err = ei.value
    assert not isinstance(err, RequestTimeoutError)
    assert f"127.0.0.1:{port}" in str(err) and "refused" in str(err)
    assert isinstance(err.__cause__, ConnectionRefusedError)
    assert "sk-secret" not in str(err)


def test_unresolvable_host_is_a_no_response_error(transport: UrllibTransport) -> None:
    with pytest.raises(NoResponseError) as ei:
        transport.handle_request(req("http://no-such-host.invalid/"), T)
    assert "no-such-host.invalid" in str(ei.value)
    assert isinstance(ei.value.__cause__, socket.gaierror)


def test_reset_mid_body(transport: UrllibTransport) -> None:
    go = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(response(b"x" * 100, length=1000))
        assert go.wait(WAIT)
        conn.reset()

    with (
        ScriptedServer(handler, release=[go]) as srv,
        transport.handle_request(req(srv.url()), T) as r,
    ):
        assert r.read_chunk() == b"x" * 100
        go.set()
        with pytest.raises(NoResponseError) as ei:
            read_all(r)
        assert isinstance(ei.value, IncompleteResponseError)
        assert "100 of 1000" in str(ei.value)
        with pytest.raises(NoResponseError):  # no silent b"" after a failure
            r.read_chunk()


@pytest.mark.parametrize(
    "tail", [chunk(b"hello"), b"a\r\nhello"], ids=["between-chunks", "inside-a-chunk"]
)
def test_truncated_chunked_body(transport: UrllibTransport, tail: bytes) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(chunked([], end=False) + tail)

    with ScriptedServer(handler) as srv, transport.handle_request(req(srv.url()), T) as r:
        assert r.read_chunk() == b"hello"
        with pytest.raises(IncompleteResponseError) as ei:
            read_all(r)
    assert "without its last chunk" in str(ei.value)
    assert "after 5 bytes" in str(ei.value)


def test_short_content_length_body(transport: UrllibTransport) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(response(b"0123456789", length=100))

    with ScriptedServer(handler) as srv, transport.handle_request(req(srv.url()), T) as r:
        with pytest.raises(IncompleteResponseError) as ei:
            read_all(r)
    assert "10 of 100 bytes" in str(ei.value)
    assert f"127.0.0.1:{srv.port}" in str(ei.value)


def test_stalled_server_before_status_times_out(transport: UrllibTransport) -> None:
    release = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        release.wait(WAIT)

    with ScriptedServer(handler, release=[release]) as srv:
        t0 = time.monotonic()
        with pytest.raises(RequestTimeoutError) as ei:
            transport.handle_request(req(srv.url()), SHORT)
        elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 1.0
    assert "0.2 s (read timeout)" in str(ei.value)


def test_stalled_body_times_out_and_connection_is_dropped(transport: UrllibTransport) -> None:
    release = threading.Event()
    eof = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(response(b"part", length=10))
        release.wait(WAIT)
        if conn.read_request() is None:
            eof.set()

    with (
        ScriptedServer(handler, release=[release]) as srv,
        transport.handle_request(req(srv.url()), SHORT) as r,
    ):
        assert r.read_chunk() == b"part"
        t0 = time.monotonic()
        with pytest.raises(RequestTimeoutError) as ei:
            r.read_chunk()
        assert 0.15 <= time.monotonic() - t0 < 1.0
        assert "no data from" in str(ei.value) and "0.2 s (read timeout)" in str(ei.value)
        release.set()
        assert eof.wait(WAIT)  # closed at once, not pooled


def test_stalled_tls_handshake_is_a_connect_timeout(transport: UrllibTransport) -> None:
    release = threading.Event()

    def handler(conn: Conn) -> None:  # accepts, never answers the ClientHello
        release.wait(WAIT)

    with ScriptedServer(handler, release=[release]) as srv:
        t0 = time.monotonic()
        with pytest.raises(RequestTimeoutError) as ei:
            transport.handle_request(req(srv.url(scheme="https")), SHORT)
        assert 0.15 <= time.monotonic() - t0 < 1.0
    assert "(connect timeout)" in str(ei.value)


def test_server_not_reading_the_body_is_a_write_timeout(transport: UrllibTransport) -> None:
    release = threading.Event()

    def handler(conn: Conn) -> None:  # reads nothing
        release.wait(WAIT)

    with ScriptedServer(handler, release=[release]) as srv:
        t0 = time.monotonic()
        with pytest.raises(RequestTimeoutError) as ei:
            transport.handle_request(req(srv.url(), body=b"x" * 64_000_000), SHORT)
        assert time.monotonic() - t0 < 1.5
    assert "(write timeout)" in str(ei.value)


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 two hundred OK\r\n\r\n", b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\n" + b"x" * 70000],
    ids=["bad-status", "not-http", "header-too-long"],
)
def test_malformed_response_is_a_no_response_error(
    transport: UrllibTransport, answer: bytes
) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(answer)

    with ScriptedServer(handler) as srv:
        with pytest.raises(NoResponseError) as ei:
            transport.handle_request(req(srv.url(), headers={"Authorization": "sk-secret"}), T)
    assert "malformed" in str(ei.value)
    assert "sk-secret" not in str(ei.value)
    assert not isinstance(ei.value, (RequestTimeoutError, IncompleteResponseError))


def test_fresh_connection_closed_without_response_is_not_retried(
    transport: UrllibTransport,
) -> None:
    seen: list[ReceivedRequest] = []

    def handler(conn: Conn) -> None:
        r = conn.read_request()
        assert r is not None
        seen.append(r)

    with ScriptedServer(handler) as srv:
        with pytest.raises(NoResponseError) as ei:
            transport.handle_request(req(srv.url()), T)
        assert "closed the connection without sending a response" in str(ei.value)
        assert srv.connections == 1
        assert len(seen) == 1


# -- stale pooled connections --------------------------------------------------------------


def test_idle_connection_closed_by_server_is_replaced(transport: UrllibTransport) -> None:
    closed = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(response(b"one"))  # keep-alive by default ...
        conn.close()  # ... but the server closes the idle connection
        closed.set()

    with ScriptedServer(handler) as srv:
        assert fetch(transport, srv.url())[2] == b"one"
        assert closed.wait(WAIT)
        time.sleep(0.02)  # let the FIN arrive
        assert fetch(transport, srv.url())[2] == b"one"
        assert srv.connections == 2


@pytest.mark.parametrize("how", ["close", "reset"])
def test_reused_connection_failing_before_response_is_retried_once(
    transport: UrllibTransport, how: str
) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def handler(conn: Conn) -> None:
        with lock:
            first = not seen
            seen.append("conn")
        for _ in range(10):
            r = conn.read_request()
            if r is None:
                return
            seen.append(r.body.decode())
            if first and r.body == b"2":  # the race: the server gave up as the request came
                conn.reset() if how == "reset" else conn.close()
                return
            conn.sendall(response(b"ok " + r.body))

    with ScriptedServer(handler) as srv:
        assert fetch(transport, srv.url(), body=b"1")[2] == b"ok 1"
        assert fetch(transport, srv.url(), body=b"2")[2] == b"ok 2"
        assert fetch(transport, srv.url(), body=b"3")[2] == b"ok 3"
        assert srv.connections == 2
    assert seen == ["conn", "1", "2", "conn", "2", "3"]


def test_response_closed_before_its_end_is_not_reused(transport: UrllibTransport) -> None:
    with ScriptedServer(keepalive(lambda r: response(b"x" * 300_000))) as srv:
        with transport.handle_request(req(srv.url()), T) as r:
            assert r.read_chunk()
        with transport.handle_request(req(srv.url()), T) as r:
            pass  # not even started
        assert fetch(transport, srv.url())[2] == b"x" * 300_000
        assert fetch(transport, srv.url())[2] == b"x" * 300_000
        assert srv.connections == 3


def test_close_is_idempotent_and_reading_after_close_fails(transport: UrllibTransport) -> None:
    with ScriptedServer(keepalive(lambda r: response(b"abc"))) as srv:
        r = transport.handle_request(req(srv.url()), T)
        r.close()
        r.close()
        with pytest.raises(NoResponseError, match="closed before"):
            r.read_chunk()
        with transport.handle_request(req(srv.url()), T) as r2:
            assert read_all(r2) == b"abc"
        r2.close()
        assert r2.read_chunk() == b""  # read to its end: stays b""


# -- read_chunk(timeout) ---------------------------------------------------------------------


def test_drain_with_short_timeout_reads_the_last_bytes_and_keeps_the_connection(
    transport: UrllibTransport,
) -> None:
    def handler(conn: Conn) -> None:
        for _ in range(3):
            if conn.read_request() is None:
                return
            conn.sendall(chunked([b"data: [DONE]\n\n"], end=False))
            time.sleep(0.02)
            conn.sendall(b"0\r\n\r\n")

    with ScriptedServer(handler) as srv:
        for _ in range(2):
            with transport.handle_request(req(srv.url()), T) as r:
                assert r.read_chunk() == b"data: [DONE]\n\n"
                assert r.read_chunk(timeout=1.0) == b""
        assert srv.connections == 1


def test_drain_timeout_is_short_and_drops_the_connection(transport: UrllibTransport) -> None:
    release = threading.Event()

    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.sendall(chunked([b"data: [DONE]\n\n"], end=False))
            release.wait(WAIT)

    with ScriptedServer(handler, release=[release]) as srv:
        with transport.handle_request(req(srv.url()), T) as r:  # read timeout 2 s
            assert r.read_chunk() == b"data: [DONE]\n\n"
            t0 = time.monotonic()
            with pytest.raises(RequestTimeoutError) as ei:
                r.read_chunk(timeout=0.05)
            assert time.monotonic() - t0 < 0.5
            assert "0.05 s" in str(ei.value)
        release.set()
        with transport.handle_request(req(srv.url()), T) as r:
            assert r.read_chunk() == b"data: [DONE]\n\n"
        assert srv.connections == 2


def test_read_chunk_timeout_applies_to_one_read_only(transport: UrllibTransport) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(chunked([b"first"], end=False))
        time.sleep(0.3)
        conn.sendall(chunk(b"second") + b"0\r\n\r\n")

    with ScriptedServer(handler) as srv, transport.handle_request(req(srv.url()), T) as r:
        assert r.read_chunk(timeout=0.1) == b"first"
        assert r.read_chunk() == b"second"  # 0.3 s later: the 2 s read timeout is back
        assert r.read_chunk() == b""


# -- request validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Test": "a\r\nInjected: 1"},
        {"X-Test": "a\nInjected: 1"},
        {"X-Test": "a\rInjected"},
        {"X-Test": "a\x00b"},
        {"X-Te\r\nst": "v"},
        {"X Test": "v"},
        {"X-Test": "caf\u00e9 \u2603"},
    ],
    ids=["crlf", "lf", "cr", "nul", "crlf-name", "space-name", "not-latin-1"],
)
def test_unsendable_header_is_a_value_error_before_sending(
    transport: UrllibTransport, headers: dict[str, str]
) -> None:
    with ScriptedServer(ok()) as srv:
        with pytest.raises(ValueError) as ei:
            transport.handle_request(req(srv.url(), headers=headers), T)
        assert "Injected" not in str(ei.value)
        time.sleep(0.05)
        assert srv.connections == 0


def test_not_an_http_url_is_a_value_error(transport: UrllibTransport) -> None:
    with pytest.raises(ValueError):
        transport.handle_request(req("ftp://127.0.0.1/x"), T)


# -- pool settings, threads, close ---------------------------------------------------------


def test_idle_connections_expire() -> None:
    with ScriptedServer(ok()) as srv, UrllibTransport(keepalive_expiry=0.05) as t:
        fetch(t, srv.url())
        fetch(t, srv.url())
        time.sleep(0.1)
        fetch(t, srv.url())
        assert srv.connections == 2


def test_max_idle_zero_keeps_nothing() -> None:
    with ScriptedServer(ok()) as srv, UrllibTransport(max_idle_per_origin=0) as t:
        for _ in range(3):
            fetch(t, srv.url())
        assert srv.connections == 3


def test_max_idle_bounds_the_pool() -> None:
    with ScriptedServer(ok()) as srv, UrllibTransport(max_idle_per_origin=2) as t:
        # four responses open at once need four connections; closing them keeps two idle
        responses = [t.handle_request(req(srv.url()), T) for _ in range(4)]
        for r in responses:
            assert read_all(r) == b"hello"
            r.close()
        (idle,) = t._idle.values()
        assert len(idle) == 2
        for _ in range(3):
            fetch(t, srv.url())
        assert srv.connections == 4


def test_threads_share_one_transport(transport: UrllibTransport) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                _, _, body = fetch(transport, srv.url(), body=b"%d-%d" % (n, i))
                assert body == b"ok %d-%d" % (n, i)
        except BaseException as exc:
            errors.append(exc)

    with ScriptedServer(keepalive(lambda r: response(b"ok " + r.body))) as srv:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(10)
        assert not any(th.is_alive() for th in threads)
        assert not errors
        assert 1 <= srv.connections <= 4


def test_close_closes_idle_connections_and_later_requests_still_work() -> None:
    eofs = threading.Semaphore(0)

    def handler(conn: Conn) -> None:
        keepalive(lambda r: response(b"ok"))(conn)
        eofs.release()

    with ScriptedServer(handler) as srv:
        t = UrllibTransport()
        fetch(t, srv.url())
        t.close()
        assert eofs.acquire(timeout=WAIT)  # the server saw the pooled connection close
        assert fetch(t, srv.url())[2] == b"ok"  # still usable, but keeps nothing
        assert eofs.acquire(timeout=WAIT)
        t.close()
        assert srv.connections == 2


def test_invalid_pool_settings() -> None:
    with pytest.raises(ValueError):
        UrllibTransport(max_idle_per_origin=-1)
    with pytest.raises(ValueError):
        UrllibTransport(keepalive_expiry=-1)


# -- proxies -------------------------------------------------------------------------------


def test_http_forward_proxy_gets_absolute_target_and_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ScriptedServer(keepalive(lambda r: response(b"via proxy"))) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{proxy.port}")
        with UrllibTransport() as t:
            for _ in range(2):
                status, _, body = fetch(t, "http://api.example.test:8080/v1/x?y=1")
                assert (status, body) == (200, b"via proxy")
        assert proxy.connections == 1
    r = proxy.requests[0]
    assert r.target == "http://api.example.test:8080/v1/x?y=1"
    assert r.header_list("host") == ["api.example.test:8080"]
    assert r.header("proxy-authorization") == "Basic " + base64.b64encode(b"user:p@ss").decode()


def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(ok(b"proxy")) as proxy, ScriptedServer(ok(b"direct")) as origin:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        with UrllibTransport() as t:
            assert fetch(t, origin.url())[2] == b"direct"
        with UrllibTransport(trust_env=False) as t:
            assert fetch(t, origin.url())[2] == b"direct"
        monkeypatch.delenv("NO_PROXY")
        with UrllibTransport() as t:
            assert fetch(t, origin.url())[2] == b"proxy"
        assert proxy.connections == 1 and origin.connections == 2


def test_https_proxy_url_for_https_target_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://127.0.0.1:1")
    with UrllibTransport() as t, pytest.raises(ValueError, match="http:// proxy"):
        t.handle_request(req("https://api.example.test/"), T)


# -- TLS -----------------------------------------------------------------------------------


@dataclass
class Certs:
    ca: str
    cert: str
    key: str
    #: a certificate for DNS:other.test only (hostname mismatch on 127.0.0.1)
    other_cert: str
    other_key: str


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl binary is needed to generate throwaway test certificates")
    d = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=r9s test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    for name, san in (("server", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.test")):
        (d / f"{name}.ext").write_text(
            f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        )
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.ext",
            cwd=d,
        )  # fmt: skip
    return Certs(
        str(d / "ca.pem"),
        str(d / "server.pem"),
        str(d / "server.key"),
        str(d / "other.pem"),
        str(d / "other.key"),
    )


def test_tls_verified_with_ca_file_and_kept_alive(certs: Certs) -> None:
    tls = server_context(certs.cert, certs.key)
    with (
        ScriptedServer(keepalive(lambda r: response(b"secure")), ssl_context=tls) as srv,
        UrllibTransport(verify=certs.ca) as t,
    ):
        for host in ("127.0.0.1", "localhost", "127.0.0.1"):
            assert fetch(t, srv.url(host=host))[2] == b"secure"
        time.sleep(0.05)  # TLS 1.3 session tickets may arrive while idle: still reusable
        assert fetch(t, srv.url())[2] == b"secure"
        assert srv.connections == 2  # one per origin (127.0.0.1 and localhost)
    assert srv.requests[1].header("host") == f"localhost:{srv.port}"


def test_tls_idle_connection_closed_by_server_is_replaced(certs: Certs) -> None:
    closed = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(response(b"one"))
        conn.close()
        closed.set()

    tls = server_context(certs.cert, certs.key)
    with (
        ScriptedServer(handler, ssl_context=tls) as srv,
        UrllibTransport(verify=certs.ca) as t,
    ):
        assert fetch(t, srv.url())[2] == b"one"
        assert closed.wait(WAIT)
        time.sleep(0.02)
        assert fetch(t, srv.url())[2] == b"one"
        assert srv.connections == 2


def test_tls_untrusted_certificate_is_a_clear_no_response_error(certs: Certs) -> None:
    tls = server_context(certs.cert, certs.key)
    with ScriptedServer(ok(), ssl_context=tls) as srv, UrllibTransport() as t:
        with pytest.raises(NoResponseError) as ei:
            t.handle_request(req(srv.url()), T)
    assert "certificate could not be verified" in str(ei.value)
    assert f"127.0.0.1:{srv.port}" in str(ei.value)
    assert isinstance(ei.value.__cause__, ssl.SSLCertVerificationError)


def test_tls_hostname_mismatch_is_rejected(certs: Certs) -> None:
    tls = server_context(certs.other_cert, certs.other_key)
    with ScriptedServer(ok(), ssl_context=tls) as srv, UrllibTransport(verify=certs.ca) as t:
        with pytest.raises(NoResponseError, match="certificate could not be verified"):
            t.handle_request(req(srv.url()), T)


def test_tls_verify_false_must_be_asked_for(certs: Certs) -> None:
    tls = server_context(certs.other_cert, certs.other_key)
    with ScriptedServer(ok(), ssl_context=tls) as srv, UrllibTransport(verify=False) as t:
        assert fetch(t, srv.url())[2] == b"hello"


def test_https_through_connect_tunnel(certs: Certs, monkeypatch: pytest.MonkeyPatch) -> None:
    connects: list[ReceivedRequest] = []
    tls = server_context(certs.cert, certs.key)

    with ScriptedServer(keepalive(lambda r: response(b"tunnelled")), ssl_context=tls) as origin:

        def proxy_handler(conn: Conn) -> None:
            connect = conn.read_request()
            assert connect is not None and connect.method == "CONNECT"
            connects.append(connect)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with socket.create_connection(("127.0.0.1", origin.port), timeout=WAIT) as up:
                if conn.buf:
                    up.sendall(conn.buf)
                relay(conn.sock, up)

        with ScriptedServer(proxy_handler) as proxy:
            monkeypatch.setenv("HTTPS_PROXY", f"http://u:pw@127.0.0.1:{proxy.port}")
            monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")  # not used for https
            with UrllibTransport(verify=certs.ca) as t:
                for _ in range(2):
                    assert fetch(t, f"https://localhost:{origin.port}/v1/x")[2] == b"tunnelled"
            assert proxy.connections == 1 and origin.connections == 1
    (connect,) = connects
    assert connect.target == f"localhost:{origin.port}"
    assert connect.header("proxy-authorization") == "Basic " + base64.b64encode(b"u:pw").decode()
    assert [r.target for r in origin.requests] == ["/v1/x", "/v1/x"]
    assert origin.requests[0].header("proxy-authorization") is None  # on the CONNECT only
    assert origin.requests[0].header("host") == f"localhost:{origin.port}"


def test_connect_refused_by_proxy_is_a_no_response_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def proxy_handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    with ScriptedServer(proxy_handler) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://u:hunter2@127.0.0.1:{proxy.port}")
        with UrllibTransport() as t, pytest.raises(NoResponseError) as ei:
            t.handle_request(req("https://api.example.test/v1/x"), T)
    assert "407" in str(ei.value)
    assert f"127.0.0.1:{proxy.port}" in str(ei.value)
    assert "hunter2" not in str(ei.value) and "dTpodW50ZXIy" not in str(ei.value)


# -- standard library only -----------------------------------------------------------------


def test_sync_transport_works_without_h11_and_anyio() -> None:
    code = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("h11", "anyio", "trio"):
            raise ImportError("blocked: " + name)
        return None

sys.meta_path.insert(0, Block())
from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout
from r9s.transports.urllib import UrllibTransport

with UrllibTransport(trust_env=False) as t:
    with t.handle_request(Request("POST", sys.argv[1], Headers()), Timeout(2, 2, 2, 2)) as r:
        body = r.read_chunk()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("h11", "anyio"))
print(r.status_code, body.decode(), loaded)
"""
    root = Path(__file__).resolve().parents[2]
    with ScriptedServer(ok()) as srv:
        out = subprocess.run(
            [sys.executable, "-W", "error::ResourceWarning", "-c", code, srv.url()],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "200 hello []"


# -- the chunked coding, decoded by the core's ChunkedDecoder ----------------------------------


def read_pieces(resp: SyncResponse) -> list[bytes]:
    pieces = []
    for _ in range(100_000):
        piece = resp.read_chunk()
        if not piece:
            return pieces
        pieces.append(piece)
    raise AssertionError("body never ended")


def test_chunks_already_received_come_as_one_piece(transport: UrllibTransport) -> None:
    events = [b"data: %d\n\n" % i for i in range(500)]
    with ScriptedServer(keepalive(lambda r: chunked(events))) as srv:  # one sendall, about 9 KB
        for _ in range(2):
            with transport.handle_request(req(srv.url()), T) as r:
                pieces = read_pieces(r)
            assert b"".join(pieces) == b"".join(events)
            assert len(pieces) < 20  # not one per HTTP chunk
        assert srv.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        chunked([b"abc"]) + b"HTTP/1.1 200 OK\r\n",
        response(b"abc") + b"junk",
        chunked([b"abc"], headers=[("Connection", "close")]),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    ],
    ids=["chunked-surplus", "content-length-surplus", "connection-close", "http-1.0"],
)
def test_a_connection_is_not_reused_after(transport: UrllibTransport, answer: bytes) -> None:
    with ScriptedServer(keepalive(lambda r: answer)) as srv:
        for _ in range(2):
            assert fetch(transport, srv.url())[::2] == (200, b"abc")
        assert srv.connections == 2


def test_trailers_and_extensions_keep_the_connection(transport: UrllibTransport) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b'3;ext=1\r\nabc\r\n2 ; q="x"\r\nde\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n'
    with ScriptedServer(keepalive(lambda r: head + body)) as srv:
        for _ in range(3):
            assert fetch(transport, srv.url())[2] == b"abcde"
        assert srv.connections == 1


def test_head_of_a_chunked_answer_has_no_body(transport: UrllibTransport) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    with ScriptedServer(keepalive(lambda r: head)) as srv:
        for _ in range(3):
            assert fetch(transport, srv.url(), method="HEAD", body=b"")[2] == b""
        assert srv.connections == 1


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\n", b"-5\r\n", b"0x5\r\n", b"5\n", b"1" * 17 + b"\r\n", b"5;" + b"e" * 2000],
    ids=["not-hex", "negative", "0x", "bare-lf", "17-digits", "size-line-2k"],
)
def test_malformed_chunked_framing(transport: UrllibTransport, framing: bytes) -> None:
    go = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(chunked([b"good"], end=False) + framing + b"hello\r\n0\r\n\r\n")
        go.wait(WAIT)

    with ScriptedServer(handler, release=[go]) as srv:
        with transport.handle_request(req(srv.url()), T) as r:
            assert r.read_chunk() == b"good"  # the bytes before the bad ones first
            with pytest.raises(NoResponseError) as ei:
                r.read_chunk()
        go.set()
    assert "malformed body" in str(ei.value)
    assert not isinstance(ei.value, (IncompleteResponseError, RequestTimeoutError))


def test_chunk_data_without_its_crlf(transport: UrllibTransport) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(chunked([], end=False) + b"5\r\nhelloXX0\r\n\r\n")

    with ScriptedServer(handler) as srv, pytest.raises(NoResponseError, match="CRLF"):
        fetch(transport, srv.url())


@pytest.mark.parametrize("cut", [1, 4, 9, 12, 15])
def test_truncated_at_any_point_of_the_framing(transport: UrllibTransport, cut: int) -> None:
    wire = chunked([b"abc", b"defg"], end=True).split(b"\r\n\r\n", 1)[1]

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(chunked([], end=False) + wire[:cut])

    with ScriptedServer(handler) as srv, pytest.raises(IncompleteResponseError) as ei:
        fetch(transport, srv.url())
    assert "without its last chunk" in str(ei.value)


class _RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))


@pytest.mark.parametrize("body", [b'{"model": "m"}', b""])
def test_head_and_body_go_out_in_one_send(body: bytes) -> None:
    from r9s.transports.urllib import _HTTPConnection

    conn = _HTTPConnection("127.0.0.1", 9)
    sock = _RecordingSocket()
    conn.sock = sock
    conn.putrequest("POST", "/v1/x", skip_host=True, skip_accept_encoding=True)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body or None)
    assert sock.sent == [b"POST /v1/x HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)]


# -- the response head, parsed by the core (r9s._core.http11) ---------------------------------


def test_interim_103_early_hints_is_skipped(transport: UrllibTransport) -> None:
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    continue_ = b"HTTP/1.1 100 Continue\r\n\r\n"
    with ScriptedServer(keepalive(lambda r: continue_ + early + response(b"final"))) as srv:
        for _ in range(2):
            status, headers, body = fetch(transport, srv.url())
            assert (status, body) == (200, b"final")
            assert "link" not in headers
        assert srv.connections == 1


def test_head_with_bare_lf_and_obs_fold_is_read(transport: UrllibTransport) -> None:
    answer = b"HTTP/1.1 200 OK\nX-Folded: a\n  b\nContent-Length: 2\n\nok"
    with ScriptedServer(keepalive(lambda r: answer)) as srv:
        for _ in range(2):
            status, headers, body = fetch(transport, srv.url())
            assert (status, headers["x-folded"], body) == (200, "a b", b"ok")
        assert srv.connections == 1


def test_header_names_keep_their_case_and_order(transport: UrllibTransport) -> None:
    answer = response(b"x", headers=[("x-B", "1"), ("X-a", "2"), ("x-b", "3")])
    with ScriptedServer(keepalive(lambda r: answer)) as srv:
        _, headers, _ = fetch(transport, srv.url())
    assert list(headers.raw())[:3] == [("x-B", "1"), ("X-a", "2"), ("x-b", "3")]
    assert headers.get_list("X-B") == ["1", "3"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding"),
        (b"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\nContent-Length: 0\r\n\r\n", "NUL"),
        (b"HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n", "CR"),
        (b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/2.0"),
        (b"HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 0\r\n\r\n", "continuation"),
    ],
    ids=["gzip-transfer-coding", "nul-in-value", "cr-in-value", "http-2", "fold-first"],
)
def test_unsafe_heads_are_refused(transport: UrllibTransport, answer: bytes, message: str) -> None:
    with ScriptedServer(keepalive(lambda r: answer)) as srv:
        with pytest.raises(NoResponseError) as ei:
            transport.handle_request(req(srv.url()), T)
    assert "malformed" in str(ei.value) and message in str(ei.value)
    assert f"127.0.0.1:{srv.port}" in str(ei.value)


def test_connection_closed_inside_the_head(transport: UrllibTransport) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")

    with ScriptedServer(handler) as srv, pytest.raises(NoResponseError) as ei:
        transport.handle_request(req(srv.url()), T)
    assert "inside the response head (after 43 bytes)" in str(ei.value)
    assert not isinstance(ei.value, (RequestTimeoutError, IncompleteResponseError))


def test_junk_status_line_is_refused_without_waiting_for_the_head_end(
    transport: UrllibTransport,
) -> None:
    release = threading.Event()

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")  # and then nothing: no empty line ever
        release.wait(WAIT)

    with ScriptedServer(handler, release=[release]) as srv:
        t0 = time.monotonic()
        with pytest.raises(NoResponseError, match="malformed"):
            transport.handle_request(req(srv.url()), T)
        assert time.monotonic() - t0 < 1.0


@pytest.mark.parametrize(
    ("status_line", "extra", "reused"),
    [
        ("HTTP/1.0 200 OK", [], False),
        ("HTTP/1.0 200 OK", [("Connection", "keep-alive")], True),
        ("HTTP/1.1 200 OK", [("Connection", "close")], False),
        ("HTTP/1.1 200 OK", [("Connection", "Upgrade, Close")], False),
        ("HTTP/1.1 200 OK", [], True),
    ],
)
def test_keep_alive_follows_the_head(
    transport: UrllibTransport, status_line: str, extra: list[tuple[str, str]], reused: bool
) -> None:
    def answer(r: ReceivedRequest) -> bytes:
        head = "\r\n".join([status_line, *(f"{k}: {v}" for k, v in extra), "Content-Length: 2"])
        return head.encode() + b"\r\n\r\nok"

    with ScriptedServer(keepalive(answer)) as srv:
        assert fetch(transport, srv.url())[2] == b"ok"
        assert fetch(transport, srv.url())[2] == b"ok"
        assert srv.connections == (1 if reused else 2)


def test_a_changed_proxy_environment_is_honoured_by_the_same_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ScriptedServer(ok(b"proxy")) as proxy, ScriptedServer(ok(b"direct")) as origin:
        with UrllibTransport() as t:
            assert fetch(t, origin.url())[2] == b"direct"
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
            assert fetch(t, origin.url())[2] == b"proxy"
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            assert fetch(t, origin.url())[2] == b"direct"
            monkeypatch.delenv("NO_PROXY")
            monkeypatch.delenv("HTTP_PROXY")
            monkeypatch.setenv("all_proxy", f"http://127.0.0.1:{proxy.port}")
            assert fetch(t, origin.url())[2] == b"proxy"
            monkeypatch.delenv("all_proxy")
            assert fetch(t, origin.url())[2] == b"direct"
    assert (len(proxy.requests), len(origin.requests)) == (2, 3)


def test_the_request_head_is_sent_as_built(transport: UrllibTransport) -> None:
    with ScriptedServer(ok()) as srv:
        fetch(
            transport,
            srv.url("/v1/x?a=1"),
            headers=[("X-One", "1"), ("Host", "example.test"), ("x-two", "caf\u00e9")],
        )
    (r,) = srv.requests
    assert (r.method, r.target) == ("POST", "/v1/x?a=1")
    assert r.headers == [
        ("Host", "example.test"),
        ("X-One", "1"),
        ("x-two", "caf\u00e9"),
        ("Content-Length", "14"),
    ]


@pytest.mark.parametrize(
    "headers",
    [{"Host": "a\r\nInjected: 1"}, {"Content-Length": "1\r\nInjected: 1"}],
    ids=["host", "content-length"],
)
def test_fields_the_transport_replaces_are_still_checked(
    transport: UrllibTransport, headers: dict[str, str]
) -> None:
    with ScriptedServer(ok()) as srv:
        with pytest.raises(ValueError, match="CR, LF or NUL") as ei:
            transport.handle_request(req(srv.url(), headers=headers), T)
        assert "Injected" not in str(ei.value)
        assert srv.connections == 0


def test_bytes_after_a_bodiless_answer_make_the_connection_unusable(
    transport: UrllibTransport,
) -> None:
    answer = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\njunk"
    with ScriptedServer(keepalive(lambda r: answer)) as srv:
        for _ in range(2):
            with transport.handle_request(req(srv.url()), T) as r:
                assert r.status_code == 204
                assert r.read_chunk() == b""
        assert srv.connections == 2
