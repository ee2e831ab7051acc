"""The standard-library sync transport: ``http.client`` under a small keep-alive pool.

Why ``http.client`` and not ``urllib.request``: ``urlopen`` opens a new TCP (and TLS) connection
for every request, follows redirects, adds headers of its own and reads the proxy settings through
``urllib.request.getproxies``.  An SDK that streams completions needs the opposite on each count,
so this module keeps ``http.client`` for what it does well (connecting: TCP, TLS with hostname
checks, the proxy ``CONNECT`` tunnel) and does the rest itself:

- **Its own request head and response head.**  The request head is built here from fields checked
  once (names are tokens, values hold no CR, LF or NUL, latin-1) and written with the body in one
  ``sendall``; the response head is read with ``recv`` and parsed by the core's strict, bounded
  ``ResponseHeadParser`` (``r9s._core.http11``), which also decides the body's framing and
  whether the connection may be reused (``body_framing``).  ``http.client``'s own response path
  (``HTTPResponse.begin``: a new buffered reader per response, ``email.feedparser``, a dozen
  method calls) cost more CPU than the rest of a small request together, and accepted heads
  that had to be re-checked here afterwards (a line without a colon dropped silently, with every
  field after it).  Its ``putrequest`` / ``putheader`` state machine is not used either, so a
  connection's ``http.client`` state stays idle: nothing there has to be reset between requests.
  (The alternative, an ``HTTPResponse`` subclass whose ``begin`` used the core parser, would have
  kept the buffered reader per response and the ``__state`` / ``__response`` bookkeeping.)
  Interim ``1xx`` heads (``100 Continue``, ``103 Early Hints``) are skipped, ``101`` is returned
  and its connection never reused.

- **A keep-alive pool.**  Idle connections are kept per origin (and per proxy), last in first out,
  at most ``max_idle_per_origin`` each, for at most ``keepalive_expiry`` seconds.  A connection goes
  back only when its response body was read to its very end and the server did not ask to close;
  anything else (an error, a response closed early) closes the socket.  One lock guards the pool,
  so threads may share a transport; a connection is used by one request at a time.
- **Stale connections.**  A server may close an idle keep-alive connection at any moment.  A pooled
  connection that is readable while idle (EOF or junk) is dropped before use; one that fails on
  reuse before any response byte arrived (broken pipe, reset, "remote end closed connection
  without response") makes the request go again, once, on a fresh connection.  A fresh connection
  is never retried here: retrying is the driver's decision.
- **Framing checks.**  The body is read raw from the socket (first the bytes that came with the
  head) and framed here: a Content-Length body is counted (a short one raises
  ``IncompleteResponseError``; bytes past its end are seen and the connection is not reused), a
  chunked body goes through the core's strict ``ChunkedDecoder`` (every chunk received so far
  per read: servers streaming events send one chunk per event), a body without either runs to
  the connection's end.  A transfer coding other than chunked is refused.  Losing data is
  never silent.  Content coding (gzip) is left alone, and no ``Accept-Encoding`` is added:
  the request headers carry what the core wants.
- **One send per request.**  The head and a bytes body go out in one ``sendall``
  (``http.client`` alone makes two).
- **Streamed bodies** (``StreamedBody``: a multipart upload from a file) go out piece by
  piece through the core's ``checked_pieces`` (never a byte past the declared length; a
  failing source raises ``BodyReadError`` and the connection is closed): with
  ``Content-Length`` when the length is known, else ``Transfer-Encoding: chunked``; the head
  with the first piece.  The write timeout bounds each piece's send, not the whole upload.
  On plain TCP the socket is polled before each piece: a server that answered (a ``413``)
  or closed mid-upload stops the upload at once (RFC 9112 section 9.5), and its answer is
  returned as below.  (Over TLS a readable socket may be a session ticket, so there only a
  failed send stops it.)  A body that cannot be rewound is sent on a fresh connection, so
  that a stale pooled one never costs it its only send; a rewindable one is re-read from its
  start for the stale-connection retry.
- **Early answers.**  A server may answer before it has read the whole request (a proxy's
  ``413 Payload Too Large``, a ``401`` decided on the head) and then close or stop reading; the
  send then fails (reset, broken pipe) or times out.  The answer is then looked for in the
  socket's receive buffer (RFC 9112 section 9.6) and, if a whole head is there, returned as the
  response; that connection is never reused.  Otherwise the send failure is reported as before.
  A reset may discard what the server sent on some systems (not Linux): then it stays a
  ``NoResponseError``.  On a reused connection a ``408`` (the server gave up on the idle
  connection) counts as stale, like no answer at all.
- **Timeouts.**  ``connect`` covers TCP connect, the proxy CONNECT and the TLS handshake; ``write``
  covers sending the request; ``read`` covers each wait for bytes.  ``read_chunk(timeout=...)``
  overrides the read timeout for one read (the stream drain after ``[DONE]``).  ``pool`` does not
  apply: this transport never waits for a connection, it opens one.
- **Errors at the edge.**  Socket, TLS and parsing errors become ``NoResponseError`` (or its
  subclasses ``RequestTimeoutError`` and ``IncompleteResponseError``) with the cause chained and a
  message that names ``host:port`` and what failed, never a header value.
- **Proxies** from ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (``trust_env``):
  plain http goes to the proxy with the absolute URL as target, https through a CONNECT tunnel
  (``Proxy-Authorization`` on the CONNECT only).  An https target through an ``https://`` proxy
  would need TLS inside TLS, which ``http.client`` cannot do: that raises ``ValueError``.
  The environment is looked at on every request, as before, but cheaply: the eight variables'
  raw values (read from ``os.environ``'s underlying dict) key a per-transport cache of routes
  (URL -> origin, proxy, request target), so a changed environment is honoured at once and an
  unchanged one costs no URL splitting or proxy parsing.

Redirects are not followed: a 3xx is returned as it is.  Only the standard library is used, so
the sync path works without h11 or anyio installed; the TLS context is made once per transport,
on first https use.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Union

from r9s._core.chunked import ChunkedDecoder, ChunkedError, IncompleteChunkedBody
from r9s._core.headers import Headers
from r9s._core.http11 import MAX_HEAD_SIZE as MAX_HEAD_SIZE
from r9s._core.http11 import (
    Framing,
    HeadError,
    IncompleteHead,
    ResponseHead,
    ResponseHeadParser,
    body_framing,
)
from r9s._core.request import Body, Request, StreamedBody, Timeout, checked_pieces
from r9s.errors import IncompleteResponseError, NoResponseError, RequestTimeoutError
from r9s.transports._common import Origin, Proxy, Verify, make_ssl_context, proxy_for, split_url

if TYPE_CHECKING:
    import ssl

__all__ = ["UrllibResponse", "UrllibTransport"]

#: Most bytes one ``read_chunk`` returns.
_READ_SIZE: Final = 65536
#: A body of one of these types is sent whole with its head; any other is a ``StreamedBody``.
_BYTES: Final = (bytes, bytearray, memoryview)
#: A streamed body's first piece is sent with the head (one ``sendall``) up to this size.
_JOIN_LIMIT: Final = 512 * 1024
#: Methods for which an empty body is still announced with ``Content-Length: 0``.
_METHODS_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH"})
#: Request fields that belong to the transport: dropped from ``request.headers``.
_TRANSPORT_FIELDS: Final = frozenset({"content-length", "transfer-encoding"})
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Methods known to be tokens (others are checked with ``_TOKEN``).
_SENDABLE_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_BAD_VALUE_CHARS: Final = re.compile(r"[\r\n\x00]")

_Key = tuple[Origin, Union[Proxy, None]]
_Conn = http.client.HTTPConnection


_stdlib_send_output = http.client.HTTPConnection._send_output  # type: ignore[attr-defined]


def _send_output(
    self: http.client.HTTPConnection, message_body: Any = None, encode_chunked: bool = False
) -> None:
    """Send the buffered request head and a bytes body in one ``send``.

    ``http.client`` (through Python 3.13 at least) sends the head, then the body, in two
    ``sendall`` calls: two system calls and two TCP segments per request.  Any other body
    (none, a file, an iterable, chunked encoding) goes the standard way.

    The transport itself no longer sends through ``putrequest`` / ``endheaders`` (it writes the
    head it built, ``_request_head``); this keeps ``http.client``'s own request path on the
    connection classes below in one send as well.
    """
    buffer = getattr(self, "_buffer", None)
    if type(message_body) is bytes and not encode_chunked and type(buffer) is list:
        buffer.extend((b"", message_body))  # the blank line ending the head, then the body
        data = b"\r\n".join(buffer)
        del buffer[:]
        self.send(data)
    else:
        _stdlib_send_output(self, message_body, encode_chunked)


class _HTTPConnection(http.client.HTTPConnection):
    _send_output = _send_output


class _HTTPSConnection(http.client.HTTPSConnection):
    _send_output = _send_output


class _StaleConnection(Exception):
    """A reused connection failed before any response byte arrived: go again on a fresh one."""


class UrllibResponse:
    """A response whose status line and headers arrived; the body is read with ``read_chunk``.

    Attributes:
        status_code: the HTTP status.
        headers: every header field, in the order received.

    Close it (or use it as a context manager): the connection returns to the pool only when the
    body was read to its end, otherwise it is closed.
    """

    status_code: int
    headers: Headers

    def __init__(
        self,
        *,
        transport: UrllibTransport,
        key: _Key,
        conn: _Conn,
        sock: socket.socket,
        head: ResponseHead,
        framing: Framing,
        pending: bytes,
        read_timeout: float | None,
        where: str,
        reusable: bool = True,
    ) -> None:
        self.status_code = head.status
        self.headers = Headers(head.headers)
        self._transport = transport
        self._key = key
        self._conn = conn
        self._sock = sock
        #: Bytes received with the head, after it: the body's start, returned by the next read.
        self._pending = pending
        #: Most bytes one read returns; a reader of a large body may raise it.
        self.read_size = _READ_SIZE
        self._read_timeout = read_timeout
        self._where = where
        #: The declared length (Content-Length, or 0 for HEAD / 204 / 304), ``None`` otherwise.
        self._expected: int | None = framing.length
        #: Removes the chunked coding (the core's strict decoder).
        self._decoder: ChunkedDecoder | None = ChunkedDecoder() if framing.chunked else None
        self._keep_alive = framing.keep_alive
        self._received = 0
        self._done = self._expected == 0
        #: Bytes arrived after the body's end (a bodiless answer counts too): never reused.
        self._surplus = self._done and bool(pending)
        #: False for an early answer (the request was not sent whole): never reused.
        self._reusable = reusable
        self._closed = False

    def read_chunk(self, timeout: float | None = None) -> bytes:
        """The next piece of the body, as soon as some bytes are available; ``b""`` at its end.

        Args:
            timeout: seconds to wait for bytes this time, instead of the request's read timeout
                (which is restored afterwards); at least 1 ms.

        Raises:
            IncompleteResponseError: the connection ended (or was reset) before the body's
                declared end.
            RequestTimeoutError: no bytes within the timeout; the connection is closed.
            NoResponseError: the connection failed otherwise, the chunked framing was
                malformed, or the response was already closed before its end.
        """
        if self._done:
            return b""
        if self._closed:
            raise NoResponseError(
                f"the response from {self._where} was closed before its body was read to the end"
            )
        if timeout is not None:
            timeout = max(timeout, 0.001)  # 0 would make the socket non-blocking
        seconds = self._read_timeout if timeout is None else timeout
        decoder = self._decoder
        try:
            if timeout is not None:
                self._sock.settimeout(timeout)
            if decoder is not None:
                data = self._read_chunked(decoder)
            elif self._expected is not None:
                data = self._read_counted()
            else:
                data = self._recv()
            if timeout is not None:
                self._sock.settimeout(self._read_timeout)
        except TimeoutError as exc:
            self._abort()
            raise RequestTimeoutError(
                f"no data from {self._where} for {_secs(seconds)} (read timeout)"
            ) from exc
        except IncompleteChunkedBody as exc:
            self._abort()
            raise IncompleteResponseError(
                f"the chunked body from {self._where} ended without its last chunk "
                f"(after {self._received} bytes)"
            ) from exc
        except ChunkedError as exc:
            self._abort()
            raise NoResponseError(f"malformed body from {self._where}: {exc}") from exc
        except ConnectionError as exc:
            self._abort()
            raise IncompleteResponseError(
                f"the connection to {self._where} was reset after {self._received}"
                f"{_of(self._expected)} bytes of the body"
            ) from exc
        except OSError as exc:
            self._abort()
            raise NoResponseError(
                f"reading the body from {self._where} failed: {_describe(exc)}"
            ) from exc
        except BaseException:
            self._abort()
            raise
        if data:
            self._received += len(data)
            return data
        if decoder is not None:  # the last chunk came with no body bytes before it
            return b""
        if self._expected is not None:  # EOF before the declared length
            self._abort()
            raise IncompleteResponseError(
                f"the body from {self._where} ended after {self._received} of "
                f"{self._expected} bytes (Content-Length)"
            )
        self._done = True  # EOF for a body delimited by the connection's end
        return b""

    def _recv(self) -> bytes:
        """The bytes that came with the head, else what one ``recv`` returns (``b""`` at EOF)."""
        data = self._pending
        if data:
            self._pending = b""
            return data
        return self._sock.recv(self.read_size)

    def _read_counted(self) -> bytes:
        """Body bytes of a Content-Length body (``b""`` at an early EOF).

        Bytes a server sent beyond the declared length are seen (they arrive in the same
        ``recv``), and the connection is then not reused.  Sets ``_done`` once the declared
        length was read.
        """
        assert self._expected is not None
        left = self._expected - self._received
        data = self._recv()
        if len(data) >= left:
            self._done = True
            if len(data) > left:
                self._surplus = True
                data = data[:left]
        return data

    def _read_chunked(self, decoder: ChunkedDecoder) -> bytes:
        """Body bytes of a chunked body: every chunk received so far, not one per call.

        Servers streaming events send one chunk per event; decoding what one ``recv`` returned
        hands them all over at once.  Sets ``_done`` once the last chunk and the trailers were
        read.

        Raises:
            ChunkedError: malformed framing (``IncompleteChunkedBody`` at an early EOF).
        """
        while True:
            if decoder.error is not None:  # found after the bytes returned last time
                raise decoder.error
            raw = self._recv()
            if not raw:
                decoder.end()  # raises: the body had not ended
            data = decoder.feed(raw)
            if decoder.done:
                self._done = True
                self._surplus = bool(decoder.surplus)
                return data
            if data:
                return data

    def close(self) -> None:
        """Release the connection: back to the pool if the body was read to its end, else closed.

        Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        conn, sock = self._conn, self._sock
        self._pending = b""
        if (
            self._done
            and self._reusable
            and self._keep_alive
            and not self._surplus
            and conn.sock is sock
        ):
            self._transport._release(self._key, conn)
        else:
            _discard(conn, sock)

    def _abort(self) -> None:
        self._closed = True
        self._pending = b""
        _discard(self._conn, self._sock)

    def __enter__(self) -> UrllibResponse:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<UrllibResponse {self.status_code} from {self._where}>"


class UrllibTransport:
    """The standard-library ``SyncTransport``: ``http.client`` with a keep-alive pool.

    Args:
        verify: ``True`` (system CAs), a CA bundle file or directory, or an ``ssl.SSLContext``;
            ``False`` disables certificate checks.
        max_idle_per_origin: idle connections kept per origin (and proxy); ``0`` keeps none.
        keepalive_expiry: seconds an idle connection may wait for reuse; older ones are closed.
        trust_env: read ``HTTP(S)_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` from the environment.

    Threads may share one transport.  After ``close`` it still serves requests but keeps no
    connection open after its response is closed.
    """

    def __init__(
        self,
        *,
        verify: Verify = True,
        max_idle_per_origin: int = 10,
        keepalive_expiry: float = 30.0,
        trust_env: bool = True,
    ) -> None:
        if max_idle_per_origin < 0:
            raise ValueError(f"max_idle_per_origin must be >= 0, got {max_idle_per_origin}")
        if keepalive_expiry < 0:
            raise ValueError(f"keepalive_expiry must be >= 0, got {keepalive_expiry}")
        self._verify = verify
        self._max_idle = max_idle_per_origin
        self._keepalive_expiry = keepalive_expiry
        self._trust_env = trust_env
        self._lock = threading.Lock()
        #: key -> idle connections with the time they became idle, oldest first.
        self._idle: dict[_Key, list[tuple[_Conn, float]]] = {}
        self._ssl_context: ssl.SSLContext | None = None
        self._closed = False
        #: (URL, proxy environment) -> route; a changed environment makes a new key.
        self._routes: dict[tuple[str, tuple[object, ...] | None], _Route] = {}

    def handle_request(self, request: Request, timeout: Timeout) -> UrllibResponse:
        """Send ``request`` and return once the status line and headers arrived.

        Args:
            request: method, absolute http(s) URL, headers and body to send.
            timeout: connect, write and read timeouts (``pool`` does not apply).

        Returns:
            The response, to be read with ``read_chunk`` and then closed.

        Raises:
            ValueError: the URL is not absolute http(s), a header name or value holds CR, LF or
                NUL (or is otherwise not sendable), or an https URL would need an ``https://``
                proxy; nothing was sent.
            RequestTimeoutError: connecting, sending or waiting for the status line timed out.
            NoResponseError: the connection was refused, reset or failed its TLS handshake, the
                name did not resolve, or the status line or headers were malformed.
        """
        url = request.url
        env = _proxy_env() if self._trust_env else None
        route = self._routes.get((url, env))
        if route is None:
            route = _route(url, self._trust_env)
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            self._routes[url, env] = route
        origin, proxy, target, where = route
        method = request.method
        if method not in _SENDABLE_METHODS and not _TOKEN.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method!r}")
        head = _request_head(method, target, _request_fields(request, origin, proxy))
        key: _Key = (origin, proxy)

        body = request.body
        # A body that cannot be sent twice never risks a stale pooled connection.
        conn = self._checkout(key) if _resendable(body) else None
        for reused in (conn is not None, False):
            if conn is None:
                conn = self._connect(origin, proxy, timeout, where)
            try:
                return self._exchange(conn, reused, key, method, head, body, timeout, where)
            except _StaleConnection:
                conn = None  # already closed; go again, once, on a fresh connection
        raise AssertionError("unreachable: a fresh connection is never stale")

    def close(self) -> None:
        """Close every idle pooled connection.

        Connections in use are closed when their responses are closed.
        """
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn, _ in conns]
            self._idle.clear()
        for conn in idle:
            _discard(conn, conn.sock)

    def __enter__(self) -> UrllibTransport:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- connections ----------------------------------------------------------------------

    def _tls(self) -> ssl.SSLContext:
        ctx = self._ssl_context
        if ctx is None:
            with self._lock:
                if self._ssl_context is None:
                    self._ssl_context = make_ssl_context(self._verify)
                ctx = self._ssl_context
        return ctx

    def _checkout(self, key: _Key) -> _Conn | None:
        """The most recently used idle connection for ``key`` that still looks usable."""
        while True:
            expired: list[_Conn] = []
            conn: _Conn | None = None
            now = time.monotonic()
            with self._lock:
                idle = self._idle.get(key)
                while idle:
                    candidate, since = idle.pop()
                    if now - since <= self._keepalive_expiry:
                        conn = candidate
                        break
                    expired.append(candidate)  # the newest expired: so did every older one
            for old in expired:
                _discard(old, old.sock)
            if conn is None:
                return None
            if _idle_socket_alive(conn.sock):
                return conn
            _discard(conn, conn.sock)

    def _release(self, key: _Key, conn: _Conn) -> None:
        now = time.monotonic()
        with self._lock:
            if self._closed or self._max_idle == 0:
                drop = [conn]
            else:
                idle = self._idle.get(key, [])
                idle.append((conn, now))
                fresh = [(c, t) for c, t in idle if now - t <= self._keepalive_expiry]
                drop = [c for c, t in idle if now - t > self._keepalive_expiry]
                excess = len(fresh) - self._max_idle
                if excess > 0:  # too many idle: close the least recently used
                    drop += [c for c, _ in fresh[:excess]]
                    fresh = fresh[excess:]
                self._idle[key] = fresh
        for c in drop:
            _discard(c, c.sock)

    def _connect(self, origin: Origin, proxy: Proxy | None, timeout: Timeout, where: str) -> _Conn:
        host = _ascii_host(origin.host)
        conn: _Conn
        if proxy is None:
            if origin.scheme == "https":
                conn = _HTTPSConnection(
                    host, origin.port, timeout=timeout.connect, context=self._tls()
                )
            else:
                conn = _HTTPConnection(host, origin.port, timeout=timeout.connect)
        else:
            proxy_host = _ascii_host(proxy.origin.host)
            if origin.scheme == "https" or proxy.origin.scheme == "https":
                # TLS to the target through a CONNECT tunnel, or (http target) to the proxy.
                conn = _HTTPSConnection(
                    proxy_host, proxy.origin.port, timeout=timeout.connect, context=self._tls()
                )
            else:
                conn = _HTTPConnection(proxy_host, proxy.origin.port, timeout=timeout.connect)
            if origin.scheme == "https":
                tunnel_headers = (
                    {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
                )
                conn.set_tunnel(host, origin.port, headers=tunnel_headers)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            _discard(conn, conn.sock)
            raise _connect_error(exc, origin, proxy, timeout.connect, where) from exc
        except BaseException:
            _discard(conn, conn.sock)
            raise
        return conn

    def _exchange(
        self,
        conn: _Conn,
        reused: bool,
        key: _Key,
        method: str,
        head_bytes: bytes,
        body: Body,
        timeout: Timeout,
        where: str,
    ) -> UrllibResponse:
        sock: socket.socket = conn.sock
        failure: OSError | None = None
        try:
            sock.settimeout(timeout.write)
            if isinstance(body, _BYTES):
                sock.sendall(head_bytes + body if body else head_bytes)
            elif not _send_streamed(sock, head_bytes, body):
                failure = ConnectionError(
                    "the server answered or closed the connection before the request body "
                    "was sent whole"
                )
        except OSError as exc:  # TimeoutError included
            failure = exc
        except BaseException:  # BodyReadError included: the request went out cut short
            _discard(conn, sock)
            raise
        if failure is not None:
            # The server may have answered before it stopped reading (RFC 9112 section 9.6):
            # a 413 or 401 sent while the body was still on its way, then a close.
            early = self._early_answer(sock, timeout)
            if early is not None and not (reused and early[0].status == 408):
                head, pending = early
                return self._response(
                    key, conn, sock, head, pending, method, timeout, where, reusable=False
                )
            _discard(conn, sock)
            if isinstance(failure, TimeoutError):
                raise RequestTimeoutError(
                    f"sending the request to {where} took over {_secs(timeout.write)} "
                    "(write timeout)"
                ) from failure
            if reused and _is_stale(failure):
                raise _StaleConnection from failure
            raise NoResponseError(
                f"sending the request to {where} failed: {_describe(failure)}"
            ) from failure

        try:
            sock.settimeout(timeout.read)
            head, pending = _read_head(sock)
        except TimeoutError as exc:
            _discard(conn, sock)
            raise RequestTimeoutError(
                f"no response from {where} within {_secs(timeout.read)} (read timeout)"
            ) from exc
        except IncompleteHead as exc:
            _discard(conn, sock)
            if exc.received == 0:
                if reused:
                    raise _StaleConnection from exc
                msg = f"{where} closed the connection without sending a response"
            else:
                msg = (
                    f"{where} closed the connection inside the response head "
                    f"(after {exc.received} bytes)"
                )
            raise NoResponseError(msg) from exc
        except HeadError as exc:
            _discard(conn, sock)
            raise NoResponseError(f"malformed status line or headers from {where}: {exc}") from exc
        except OSError as exc:
            _discard(conn, sock)
            if reused and _is_stale(exc):
                raise _StaleConnection from exc
            raise NoResponseError(
                f"reading the response from {where} failed: {_describe(exc)}"
            ) from exc
        except BaseException:
            _discard(conn, sock)
            raise

        return self._response(key, conn, sock, head, pending, method, timeout, where)

    def _response(
        self,
        key: _Key,
        conn: _Conn,
        sock: socket.socket,
        head: ResponseHead,
        pending: bytes,
        method: str,
        timeout: Timeout,
        where: str,
        *,
        reusable: bool = True,
    ) -> UrllibResponse:
        """Decide the body's framing and wrap the head; on any failure close the connection."""
        try:
            try:
                framing = body_framing(head, method)
            except HeadError as exc:
                raise NoResponseError(
                    f"malformed status line or headers from {where}: {exc}"
                ) from exc
            return UrllibResponse(
                transport=self,
                key=key,
                conn=conn,
                sock=sock,
                head=head,
                framing=framing,
                pending=pending,
                read_timeout=timeout.read,
                where=where,
                reusable=reusable,
            )
        except BaseException:
            _discard(conn, sock)
            raise

    def _early_answer(
        self, sock: socket.socket, timeout: Timeout
    ) -> tuple[ResponseHead, bytes] | None:
        """The response head a server sent before sending the request failed, if any.

        A server may answer while the body is still coming (a ``413`` from a proxy, a ``401``
        decided on the head alone) and then close, or stop reading: the client's send then
        fails with a broken pipe or a reset, or times out.  What the server sent before that is
        still in the socket's receive buffer (Linux keeps it even after a reset; some systems
        discard it on a reset, and then there is nothing to read), so it is read here, waiting
        at most ``min(read timeout, EARLY_ANSWER_WAIT)`` per read, with the core's head limits.

        Returns:
            The head and the bytes after it (its connection must never be reused), or ``None``
            when no valid final head could be read; the caller then reports the send failure.
        """
        wait = EARLY_ANSWER_WAIT if timeout.read is None else min(timeout.read, EARLY_ANSWER_WAIT)
        try:
            sock.settimeout(max(wait, 0.001))
            head, pending = _read_head(sock)
        except (OSError, HeadError, ValueError):
            return None
        if head.status < 200:  # 101: not an answer to this request
            return None
        try:
            sock.settimeout(timeout.read)
        except OSError:
            pass
        return head, pending


# -- helpers ------------------------------------------------------------------------------

#: Longest wait (seconds) for each read of an early answer once sending the request failed;
#: never longer than the read timeout.  The answer, if any, was sent before the failure.
EARLY_ANSWER_WAIT = 1.0


def _read_head(sock: socket.socket) -> tuple[ResponseHead, bytes]:
    """Read the response head from ``sock``: the head and the bytes received after it.

    Raises:
        HeadError: a malformed head or one over the core's limits (``IncompleteHead`` at EOF).
        OSError: the socket failed (``TimeoutError``: no bytes within its timeout).
    """
    parser = ResponseHeadParser()
    recv = sock.recv
    while True:
        data = recv(_READ_SIZE)
        if not data:
            parser.end()  # raises: the head was not complete
        head = parser.feed(data)
        if head is not None:
            return head, parser.trailing


def _request_head(method: str, target: str, fields: list[tuple[str, str]]) -> bytes:
    """The request line and the header fields (``_request_fields``), encoded.

    Raises:
        ValueError: a field value that is not latin-1 text (the message names the field).
    """
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in fields]
    lines += ("", "")
    try:
        return "\r\n".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        for name, value in fields:
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise ValueError(f"the value of header {name!r} is not latin-1 text") from None
        raise  # pragma: no cover - method and target were checked to be ASCII


def _request_fields(request: Request, origin: Origin, proxy: Proxy | None) -> list[tuple[str, str]]:
    """The header fields to send, checked: exactly one Host, our own Content-Length.

    Names are checked once per transport process (``_field_key``), values together in one
    search; latin-1 is checked when the head is encoded (``_request_head``).

    Raises:
        ValueError: a name that is not a token, or a value with CR, LF or NUL; the message
            names the field, never its value.
    """
    fields: list[tuple[str, str]] = []
    host: str | None = None
    proxy_auth = False
    keys = _FIELD_KEYS
    for name, value in request.headers.raw():
        lower = keys.get(name) or _field_key(name)
        if lower == "host":
            if host is None:
                host = value
            continue
        if lower in _TRANSPORT_FIELDS:
            _check_value(name, value)
            continue
        if lower == "proxy-authorization":
            proxy_auth = True
        fields.append((name, value))
    if host is not None:
        _check_value("Host", host)
    if _BAD_VALUE_CHARS.search("".join([value for _, value in fields])):
        for name, value in fields:
            _check_value(name, value)
    fields.insert(0, ("Host", host if host is not None else _authority(origin)))
    if proxy is not None and origin.scheme == "http" and proxy.authorization and not proxy_auth:
        fields.append(("Proxy-Authorization", proxy.authorization))
    body = request.body
    if isinstance(body, _BYTES):
        if body or request.method in _METHODS_WITH_BODY:
            fields.append(("Content-Length", str(len(body))))
    elif body.length is not None:
        fields.append(("Content-Length", str(body.length)))
    else:
        fields.append(("Transfer-Encoding", "chunked"))
    return fields


def _resendable(body: Body) -> bool:
    return isinstance(body, _BYTES) or bool(body.rewindable)


def _send_streamed(sock: socket.socket, head: bytes, body: StreamedBody) -> bool:
    """Send ``head`` and then ``body``, piece by piece (chunked when its length is unknown).

    Returns:
        ``True`` once all of it was sent; ``False`` when it stopped early because the server
        sent something first (an answer, or EOF), seen on a plain TCP socket before a piece.

    Raises:
        OSError: a send failed or timed out (``TimeoutError``).
        BodyReadError: the body's source failed or did not match its declared length.
    """
    pieces = checked_pieces(body, chunked=body.length is None)
    poller = None if _is_tls(sock) else _poller(sock)
    try:
        first = next(pieces, None)
        if first is None or len(first) <= _JOIN_LIMIT:
            sock.sendall(head + first if first else head)
        else:
            sock.sendall(head)
            sock.sendall(first)
        for piece in pieces:
            if poller is not None and poller():
                return False
            sock.sendall(piece)
    finally:
        pieces.close()  # closes a file the body opened, when the send failed midway
    return True


def _is_tls(sock: socket.socket) -> bool:
    if "ssl" not in sys.modules:
        return False
    import ssl

    return isinstance(sock, ssl.SSLSocket)


def _poller(sock: socket.socket) -> Callable[[], bool]:
    """A function saying, without waiting, whether ``sock`` has something to read."""
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(sock, select.POLLIN)
        return lambda: bool(poll.poll(0))
    return lambda: bool(select.select([sock], [], [], 0)[0])  # pragma: no cover - Windows


#: Header names already checked -> their lower-case form (bounded: ``_MAX_FIELD_KEYS``).
_FIELD_KEYS: dict[str, str] = {}
_MAX_FIELD_KEYS: Final = 512


def _field_key(name: str) -> str:
    """The lower-case form of a header name, checked to be a token (and remembered).

    Raises:
        ValueError: not a token.
    """
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid header name {name!r}")
    lower = name.lower()
    if len(_FIELD_KEYS) >= _MAX_FIELD_KEYS:
        _FIELD_KEYS.clear()
    _FIELD_KEYS[name] = lower
    return lower


def _check_value(name: str, value: str) -> None:
    if _BAD_VALUE_CHARS.search(value):
        raise ValueError(f"the value of header {name!r} contains CR, LF or NUL")


class _Route(NamedTuple):
    """What a URL resolves to: computed once per URL and proxy environment."""

    origin: Origin
    proxy: Proxy | None
    #: The request target as sent: absolute through a forward proxy.
    target: str
    #: ``host:port`` (and the proxy) for messages.
    where: str


#: Most routes kept per transport; the cache is emptied when it is full.
_MAX_ROUTES: Final = 256
_PROXY_VARS: Final = tuple(
    n for v in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for n in (v, v.upper())
)


def _proxy_env_reader() -> Callable[[], tuple[object, ...]]:
    """A function returning the proxy variables' values, to key the route cache with.

    ``os.environ`` is a mapping over the process's raw environment (``os.environ._data``, a
    dict keyed by encoded names in CPython and PyPy); reading that dict is about 40 times
    cheaper than eight ``os.environ.get`` calls, and sees every change made through
    ``os.environ`` (the only changes ``os.environ.get`` sees too).  Elsewhere, ``get``.
    """
    data = getattr(os.environ, "_data", None)
    encodekey = getattr(os.environ, "encodekey", None)
    if type(data) is dict and callable(encodekey):
        keys = tuple(encodekey(name) for name in _PROXY_VARS)
        get = data.get
        return lambda: tuple(map(get, keys))
    environ_get = os.environ.get  # pragma: no cover - not CPython's or PyPy's os module
    return lambda: tuple(map(environ_get, _PROXY_VARS))  # pragma: no cover


_proxy_env: Final = _proxy_env_reader()


def _route(url: str, trust_env: bool) -> _Route:
    """Split and check ``url`` and find its proxy.

    Raises:
        ValueError: not an absolute http(s) URL, a path or query with whitespace, control or
            non-ASCII characters, or an https URL through an ``https://`` proxy.
    """
    origin, target = split_url(url)
    proxy = proxy_for(origin, trust_env)
    if proxy is not None and origin.scheme == "https" and proxy.origin.scheme == "https":
        raise ValueError(
            "an https:// proxy cannot tunnel https requests in the urllib transport; "
            "use an http:// proxy URL (the tunnel still carries end-to-end TLS)"
        )
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise ValueError("the URL path or query holds whitespace, control or non-ASCII chars")
    where = _hostport(origin)
    if proxy is not None:
        where = f"{where} via proxy {_hostport(proxy.origin)}"
        if origin.scheme == "http":
            target = f"http://{_authority(origin)}{target}"  # absolute form for a forward proxy
    return _Route(origin, proxy, target, where)


def _ascii_host(host: str) -> str:
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _authority(origin: Origin) -> str:
    """``Host`` value: host (IDNA, brackets for IPv6) and the port unless it is the default."""
    return Origin(origin.scheme, _ascii_host(origin.host), origin.port).netloc


def _hostport(origin: Origin) -> str:
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return f"{host}:{origin.port}"


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return "ever"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.3g} s"


def _of(expected: int | None) -> str:
    return "" if expected is None else f" of {expected}"


def _describe(exc: BaseException) -> str:
    """A short description of a socket or parsing error (never holds request header values)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    text = text.strip()
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(exc).__name__}: {text}"


def _is_stale(exc: BaseException) -> bool:
    """Whether ``exc``, on a reused connection before any response byte, means it was closed."""
    if isinstance(exc, ConnectionError):  # BrokenPipe, ConnectionReset, ...
        return True
    if "ssl" in sys.modules:
        import ssl

        return isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError))
    return False


def _connect_error(
    exc: BaseException, origin: Origin, proxy: Proxy | None, seconds: float | None, where: str
) -> NoResponseError:
    if proxy is None:
        peer, suffix = _hostport(origin), ""
    else:  # the error is about the proxy unless the tunnel is up (TLS errors)
        peer, suffix = f"proxy {_hostport(proxy.origin)}", f" (for {_hostport(origin)})"
    if isinstance(exc, TimeoutError):
        return RequestTimeoutError(
            f"could not connect to {where} within {_secs(seconds)} (connect timeout)"
        )
    if "ssl" in sys.modules:
        import ssl

        if isinstance(exc, ssl.SSLCertVerificationError):
            return NoResponseError(
                f"TLS handshake with {where} failed: the server certificate could not be "
                f"verified ({exc.verify_message or exc.reason})"
            )
        if isinstance(exc, ssl.SSLError):
            return NoResponseError(
                f"TLS handshake with {where} failed: {exc.reason or _describe(exc)}"
            )
    if isinstance(exc, socket.gaierror):
        host = f"host {origin.host}" if proxy is None else f"proxy host {proxy.origin.host}"
        return NoResponseError(f"could not resolve {host}{suffix}: {exc.strerror}")
    if isinstance(exc, ConnectionRefusedError):
        return NoResponseError(f"connection to {peer} refused{suffix}")
    if isinstance(exc, http.client.HTTPException):  # the proxy's answer to CONNECT
        return NoResponseError(f"no valid answer to CONNECT from {peer}: {_describe(exc)}")
    return NoResponseError(f"could not connect to {where}: {_describe(exc)}")


def _idle_socket_alive(sock: socket.socket | None) -> bool:
    """False when an idle keep-alive socket is readable: the server closed it or sent junk."""
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            readable = bool(poller.poll(0))
        else:  # pragma: no cover - Windows
            readable = bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False
    if "ssl" in sys.modules:
        import ssl

        if isinstance(sock, ssl.SSLSocket):
            if sock.pending():
                return False
            if not readable:
                return True
            # A TLS record that is not data (a TLS 1.3 session ticket) makes the socket readable
            # too: read without blocking and see whether data or EOF is behind it.
            try:
                sock.setblocking(False)
                sock.recv(1)
            except ssl.SSLWantReadError:
                return True
            except OSError:
                return False
            return False
    return not readable


def _discard(conn: _Conn, sock: socket.socket | None) -> None:
    """Close a connection and its socket (the response may have taken the socket over)."""
    try:
        conn.close()
    except OSError:
        pass
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
