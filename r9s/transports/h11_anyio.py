"""HTTP/1.1 on h11 over anyio sockets: the async transport, for asyncio and trio alike.

Rule 1: h11 does the protocol, anyio does the I/O, and every error is translated right here, at
the edge (``r9s.transports.base`` lists the public classes), so nothing above this module ever
sees an ``OSError``, an anyio exception or an h11 exception.  Cancellation is the one exception
that is never translated: it propagates untouched, after the connection it interrupted is closed.

How it is built:

- **h11 for the heads, the body read raw.**  A request is one ``send`` of the whole head and
  body, then reads of at most 64 KiB until h11 yields the ``Response``.  The body is then read
  around h11, starting with the bytes it holds past the head (``trailing_data``): a chunked body
  through the core's ``ChunkedDecoder``, a Content-Length body by counting, any other to EOF.
  Each ``read_chunk`` returns everything received so far (h11 would make one ``Data`` event per
  HTTP chunk, and servers streaming events send one chunk per event).  Content coding is left
  untouched: decoding is the core's job.  Each wait has its own deadline
  (``anyio.CancelScope``): connect, write, read, pool.
- **A connection is reused only when its response allows it**: read to its very end, no byte
  past that end, and keep-alive on both sides (h11's ``our_state`` is ``DONE``, not
  ``MUST_CLOSE``, once the head arrived).  It then goes back to the pool with a fresh h11 state
  machine for the next cycle.  A response closed early, an error, a
  timeout or a cancellation closes the connection instead; it is never handed to the next request.
  Closing is shielded from cancellation and bounded by ``_CLOSE_TIMEOUT`` (httpcore's
  ``_response_closed`` is the model), so ``aclose`` works while the caller is being cancelled.
- **Early answers.**  A server may answer before it has read the whole request (a proxy's
  ``413``, a ``401`` decided on the head) and close or stop reading, so the send fails or times
  out.  The answer is then read (``_early_answer``, RFC 9112 section 9.6) and returned as the
  response, on a connection never reused; with no whole head, the send failure is reported as
  before.  asyncio closes a socket whose write failed at once, so while a large request goes
  out the loop keeps reading (``_keep_reading``).  A reset may discard what the server sent on
  some systems (not Linux); that stays a ``NoResponseError``.
- **Streamed bodies** (``StreamedBody``: a multipart upload from a file) go out piece by
  piece through the core's ``checked_pieces`` (never a byte past the declared length; a
  failing source raises ``BodyReadError`` and the connection is closed), framed by h11:
  ``Content-Length`` when the length is known, else ``Transfer-Encoding: chunked``.  Each
  piece is produced on the event loop (a file read of at most 256 KiB: microseconds from the
  page cache; ``r9s._core.multipart`` has the figures) and sent within the write timeout,
  which bounds each piece, not the whole upload.  While the body goes out the loop keeps
  reading (asyncio) and, on plain TCP, looks before each piece whether the server has
  answered or closed: then the upload stops at once (RFC 9112 section 9.5) and the answer is
  returned as above.  (Over TLS a readable socket may be a session ticket, so there only a
  failed send stops it.)  A body that cannot be rewound is sent on a fresh connection, never
  a pooled one that may be stale; a rewindable one is produced again from its start for the
  stale-connection retry.
- **A pooled connection the server closed while idle** is noticed before reuse (the socket polls
  readable) or, in a race, when its next request sees EOF or a reset before any response byte:
  the request is then sent once more, on a fresh connection.
- **Loop-agnostic pool.**  A transport may be used from successive ``asyncio.run`` calls, from
  ``trio.run`` after that, and from several threads each running its own loop.  Sockets cannot
  move between loops, so the pool keeps one ``_LoopPool`` per running loop, keyed by the loop
  object itself (the asyncio loop, or trio's ``TrioToken``), held strongly so that its ``id``
  cannot be reused while the pool remembers it.  The bookkeeping is guarded by one
  ``threading.Lock`` and never awaits; a task waiting for a free connection waits on an
  ``anyio.Event`` created in, and only ever set from, its own loop.  Nothing loop-bound is made in
  ``__init__``.  When a loop has ended (asyncio: closed; trio: its run finished), its idle
  connections are closed synchronously, without that loop (see ``_close_orphan``).
- **Limits apply per event loop**: ``max_connections`` (in use plus idle, waiting at most
  ``timeout.pool`` for a slot), ``max_keepalive`` idle ones, each idle for at most
  ``keepalive_expiry`` seconds.  In a program with one loop that is the whole transport.

TLS goes through ``anyio.connect_tcp(..., tls=True, tls_standard_compatible=False)`` (HTTP
frames its own messages, so a missing close_notify is not an error); HTTPS through a proxy is a
``CONNECT`` tunnel wrapped with ``TLSStream.wrap``; plain HTTP through a proxy uses the
absolute-form target.  No redirects are followed.
"""

from __future__ import annotations

import math
import re
import select
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
import anyio.abc
import h11
from anyio.streams.tls import TLSStream

from r9s._core.chunked import ChunkedDecoder, ChunkedError, IncompleteChunkedBody
from r9s._core.headers import Headers
from r9s._core.request import Body, Request, StreamedBody, Timeout, checked_pieces
from r9s.errors import IncompleteResponseError, NoResponseError, R9SError, RequestTimeoutError
from r9s.transports._common import Origin, Proxy, Verify, make_ssl_context, proxy_for, split_url

__all__ = ["H11Response", "H11Transport", "PoolStats"]

#: Bytes asked of the socket per read (httpcore and urllib3 use 64 KiB as well).
_READ_SIZE: Final = 64 * 1024
#: Longest a close may take; closing a socket is local, so this only bounds a stuck peer.
_CLOSE_TIMEOUT: Final = 1.0
#: Longest wait (seconds) for an early answer once sending the request failed; never longer
#: than the read timeout.  The answer, if any, was sent before the failure.
_EARLY_ANSWER_WAIT: Final = 1.0
#: A request larger than this may not fit the socket buffers at once: while it is sent, the
#: asyncio loop keeps reading, so that a server's early answer survives a failed write.
_WATCH_SIZE: Final = 64 * 1024
#: A body of one of these types is sent whole with its head; any other is a ``StreamedBody``.
_BYTES: Final = (bytes, bytearray, memoryview)
#: A streamed body's first piece is sent with the head (one ``send``) up to this size.
_JOIN_LIMIT: Final = 512 * 1024
#: Request fields that belong to the transport and are never copied from the request.
_OWN_FIELDS: Final = frozenset({"host", "content-length", "transfer-encoding"})
#: What a network failure looks like once it reaches us (``ssl.SSLError`` is an ``OSError``).
_NETWORK_ERRORS: Final = (
    OSError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    anyio.ClosedResourceError,
    h11.RemoteProtocolError,
)

_Key = tuple[Origin, Proxy | None]


# ---------------------------------------------------------------------------------------------
# Which loop are we on?


def _current_loop() -> tuple[str, Any]:
    """``(library, loop object)`` for the running loop: an asyncio loop, or trio's ``TrioToken``.

    Raises:
        RuntimeError: not called from a running asyncio or trio event loop.
    """
    try:
        import sniffio
    except ImportError:  # anyio works without sniffio, and then only on asyncio
        library = "asyncio"
    else:
        try:
            library = sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            library = ""
    if library == "trio":
        import trio

        return library, trio.lowlevel.current_trio_token()
    if library == "asyncio":
        import asyncio

        return library, asyncio.get_running_loop()
    raise RuntimeError("H11Transport must be used from a running asyncio or trio event loop")


def _noop() -> None:
    pass


def _loop_finished(library: str, loop: Any) -> bool:
    """Whether ``loop`` has ended for good (safe to call from any thread)."""
    if library == "asyncio":
        return bool(loop.is_closed())
    try:  # a TrioToken refuses callbacks once its run has finished
        loop.run_sync_soon(_noop)
    except Exception:
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Small helpers


def _deadline(seconds: float | None) -> anyio.CancelScope:
    """A scope that cancels its body after ``seconds`` (never when ``None``).

    The caller notices its own timeout by falling out of the ``with`` block: the body either
    returned, raised, or was cut short by this deadline (an outer cancellation propagates).
    """
    return anyio.CancelScope(
        deadline=math.inf if seconds is None else anyio.current_time() + seconds
    )


def _hostport(origin: Origin) -> str:
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return f"{host}:{origin.port}"


_H11_REASON = re.compile(r"[A-Za-z][A-Za-z ,\-]*")


def _h11_reason(exc: BaseException) -> str:
    """The leading words of an h11 error, without the bytes it quotes (they may be secrets)."""
    match = _H11_REASON.match(str(exc))
    return match.group(0).strip(" ,-") if match else type(exc).__name__


def _reason(exc: BaseException, depth: int = 0) -> str:
    """A short description of a network failure, following its causes a little way."""
    if isinstance(exc, h11.ProtocolError):
        return _h11_reason(exc)
    if isinstance(exc, anyio.EndOfStream):
        text = "connection closed by the peer"
    elif isinstance(exc, anyio.BrokenResourceError) and exc.__cause__ is None:
        text = "connection broken"
    elif isinstance(exc, anyio.BrokenResourceError):
        text = ""
    else:
        text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        cause = cause.exceptions[0]
    if cause is not None and depth < 3:
        inner = _reason(cause, depth + 1)
        text = f"{text} ({inner})" if text else inner
    return text


def _verification_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _has_bad_char(text: str) -> bool:
    return "\r" in text or "\n" in text or "\0" in text


def _request_head(
    request: Request, origin: Origin, target: str, proxy: Proxy | None
) -> h11.Request:
    """The h11 request head: the request's own fields plus ``Host`` and ``Content-Length``.

    Raises:
        ValueError: a method, target, header name or value that cannot go on the wire (CR, LF
            or NUL anywhere, a name that is not a token, a value that is not latin-1).
    """
    try:
        host = origin.netloc.encode("ascii")
    except UnicodeEncodeError:
        host = origin.netloc.encode("idna")
    fields: list[tuple[bytes, bytes]] = [(b"Host", host)]
    for name, value in request.headers.raw():
        if _has_bad_char(name) or _has_bad_char(value):
            raise ValueError(f"header {name!r} contains CR, LF or NUL")
        if name.lower() in _OWN_FIELDS:
            continue
        try:
            fields.append((name.encode("ascii"), value.strip(" \t").encode("latin-1")))
        except UnicodeEncodeError:
            raise ValueError(
                f"header {name!r} cannot be sent (names must be ASCII, values latin-1)"
            ) from None
    if proxy is not None and origin.scheme == "http" and proxy.authorization:
        fields.append((b"Proxy-Authorization", proxy.authorization.encode("latin-1")))
    body = request.body
    if isinstance(body, _BYTES):
        if body or request.method.upper() not in ("GET", "HEAD"):
            fields.append((b"Content-Length", str(len(body)).encode("ascii")))
    elif body.length is not None:
        fields.append((b"Content-Length", str(body.length).encode("ascii")))
    else:
        fields.append((b"Transfer-Encoding", b"chunked"))
    if _has_bad_char(request.method) or _has_bad_char(target):
        raise ValueError("the request method or target contains CR, LF or NUL")
    try:
        return h11.Request(
            method=request.method.encode("ascii"), target=target.encode("ascii"), headers=fields
        )
    except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
        raise ValueError(f"invalid request head: {_h11_reason(exc)}") from None


def _is_readable(stream: anyio.abc.ByteStream) -> bool:
    """Whether an idle connection's socket has something to read: EOF, a reset, or junk.

    An idle HTTP/1.1 connection must be silent, so anything readable means it cannot be reused.
    """
    try:
        sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        fd = sock.fileno()
        if fd < 0:
            return True
        poll = getattr(select, "poll", None)
        if poll is not None:  # unlike select(), not limited to fds below FD_SETSIZE
            poller = poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except Exception:  # cannot tell: let the stale-connection retry handle it
        return False


async def _close_quietly(stream: anyio.abc.ByteStream) -> None:
    """Close ``stream`` even while the caller is being cancelled, in at most ``_CLOSE_TIMEOUT``."""
    with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
        try:
            await stream.aclose()
        except Exception:
            pass


def _close_orphan(stream: anyio.abc.ByteStream) -> None:
    """Release the socket of a connection whose event loop has ended, without that loop.

    Awaiting ``aclose`` needs the connection's own loop, which is gone.  Simply forgetting the
    stream would leave the OS socket open until the garbage collector finds it, with a
    ``ResourceWarning``.  A trio socket is a plain socket underneath, closed directly.  An
    asyncio socket belongs to a transport whose ``close``/``abort`` schedule their last step on
    the (closed) loop, so that step is run here.  Best effort: whatever fails is forgotten.
    """
    inner: Any = stream
    while isinstance(inner, TLSStream):
        inner = inner.transport_stream
    transport = getattr(inner, "_transport", None)  # anyio's asyncio SocketStream
    try:
        if transport is not None:
            try:
                transport.abort()
            except RuntimeError:  # "Event loop is closed": the rest is ours to do
                pass
            if getattr(transport, "_sock", None) is not None:
                transport._call_connection_lost(None)
        else:
            stream.extra(anyio.abc.SocketAttribute.raw_socket).close()
    except Exception:
        pass


def _abort_stream(stream: anyio.abc.ByteStream) -> None:
    """Close a connection's socket from synchronous code while its loop may still run.

    asyncio: ``transport.abort()`` closes the socket on the loop's next turn (or at once
    through ``_close_orphan`` when the loop has ended).  trio: the socket is closed directly;
    no task waits on it, since its stream was dropped.
    """
    inner: Any = stream
    while isinstance(inner, TLSStream):
        inner = inner.transport_stream
    transport = getattr(inner, "_transport", None)
    if transport is not None:
        loop = getattr(transport, "_loop", None)
        if loop is not None and not loop.is_closed():
            try:
                transport.abort()
                return
            except Exception:
                pass
    _close_orphan(stream)


# ---------------------------------------------------------------------------------------------
# Connections and the per-loop pool


class _StaleConnection(Exception):
    """A reused connection failed before any response byte: the server had closed it."""


class _Connection:
    __slots__ = (
        "closed",
        "generation",
        "h11",
        "idle_since",
        "key",
        "pool",
        "requests",
        "stream",
        "where",
    )

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        key: _Key,
        pool: _LoopPool,
        where: str,
        generation: int,
    ) -> None:
        self.stream = stream
        self.h11 = h11.Connection(our_role=h11.CLIENT)
        self.key = key
        self.pool = pool
        self.where = where
        self.generation = generation
        self.requests = 0
        self.idle_since = 0.0
        self.closed = False


class _LoopPool:
    """The connections of one event loop.  Every method is called with the transport's lock held."""

    __slots__ = ("idle", "library", "loop", "n_idle", "total", "waiters")

    def __init__(self, library: str, loop: Any) -> None:
        self.library = library
        self.loop = loop  # held strongly: its id() stays unique while we remember it
        self.idle: dict[_Key, list[_Connection]] = {}
        self.n_idle = 0
        self.total = 0  # connections in use, idle, or being opened
        self.waiters: deque[anyio.Event] = deque()

    def wake_one(self) -> None:
        if self.waiters:
            self.waiters.popleft().set()

    def take(
        self,
        key: _Key,
        now: float,
        limit: int,
        expiry: float,
        fresh: bool,
        to_close: list[_Connection],
    ) -> tuple[_Connection | None, bool]:
        """``(idle conn, True)``, ``(None, True)`` for a slot to open one, or ``(None, False)``.

        Expired idle connections, and one evicted to make room, are appended to ``to_close``.
        """
        if self.n_idle:
            expired = 0
            for k in list(self.idle):
                conns = self.idle[k]
                keep = [c for c in conns if now - c.idle_since < expiry]
                if len(keep) != len(conns):
                    to_close.extend(c for c in conns if now - c.idle_since >= expiry)
                    expired += len(conns) - len(keep)
                    if keep:
                        self.idle[k] = keep
                    else:
                        del self.idle[k]
            self.n_idle -= expired
            self.total -= expired
            for _ in range(expired):
                self.wake_one()
        if not fresh:
            mine = self.idle.get(key)
            if mine:
                conn = mine.pop()  # the most recently used: the least likely to be stale
                if not mine:
                    del self.idle[key]
                self.n_idle -= 1
                return conn, True
        if self.total < limit:
            self.total += 1
            return None, True
        if self.n_idle:  # full of idle connections to elsewhere: evict the oldest, take its slot
            k, i = min(
                ((k, i) for k, conns in self.idle.items() for i in range(len(conns))),
                key=lambda ki: self.idle[ki[0]][ki[1]].idle_since,
            )
            to_close.append(self.idle[k].pop(i))
            if not self.idle[k]:
                del self.idle[k]
            self.n_idle -= 1
            return None, True
        return None, False

    def drain(self, *, ended: bool = False) -> list[_Connection]:
        """Remove and return every idle connection.

        For a loop that has ``ended`` its waiters are dropped, never woken: their events belong
        to a loop that is gone (and ``asyncio.run`` / ``trio.run`` end no loop with a task still
        waiting, so there should be none).
        """
        conns = [c for conns in self.idle.values() for c in conns]
        self.idle.clear()
        self.total -= self.n_idle
        self.n_idle = 0
        if ended:
            self.waiters.clear()
        else:
            for _ in conns:
                self.wake_one()
        return conns


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a transport's counters (benchmarks and tests read it)."""

    #: Connections opened since the transport was made (TCP, plus TLS where used).
    connections_opened: int
    #: Requests sent.
    requests: int
    #: Requests sent on a connection that had already served one (keep-alive reuse).
    reused: int
    #: Requests sent again on a fresh connection because a pooled one turned out to be stale.
    stale_retries: int
    #: Connections handed out and not yet returned or closed, over the loops still running.
    in_use: int
    #: Idle pooled connections, over the loops still running.
    idle: int


# ---------------------------------------------------------------------------------------------
# The response


class H11Response:
    """A response whose status and headers arrived; the body is read with ``read_chunk``.

    h11 parsed the head; the body is read here, straight from the socket: a chunked body through
    the core's ``ChunkedDecoder``, a ``Content-Length`` body by counting, any other up to EOF.
    (h11 would make one ``Data`` event per HTTP chunk, and a server streaming server-sent events
    sends one chunk per event.)

    Attributes:
        status_code: the HTTP status.
        headers: the response headers, names in the case the server sent.
        reason_phrase: the status line's reason phrase (may be empty).
        http_version: ``"1.1"`` or ``"1.0"``.
    """

    def __init__(
        self,
        transport: H11Transport,
        conn: _Connection,
        head: h11.Response,
        timeout: Timeout,
        method: bytes,
        *,
        reusable: bool = True,
    ) -> None:
        self.status_code: int = head.status_code
        self.headers: Headers = Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers.raw_items()]
        )
        self.reason_phrase: str = head.reason.decode("latin-1")
        self.http_version: str = head.http_version.decode("ascii")
        self._transport = transport
        self._conn: _Connection | None = conn
        self._where = conn.where
        self._read_timeout = timeout.read
        #: Most bytes one read asks of the socket; a reader of a large body may raise it.
        self.read_size = _READ_SIZE
        self._received = 0
        self._done = False
        # The body bytes h11 received with the head, and whether EOF came with them too.
        self._pending, self._eof = conn.h11.trailing_data
        # h11 says DONE (not MUST_CLOSE) when neither side asked to close and both speak 1.1.
        # ``reusable`` is False for an early answer: the request was not sent whole.
        self._keep_alive = reusable and conn.h11.our_state is h11.DONE
        self._decoder: ChunkedDecoder | None = None
        #: Body bytes still to come for a Content-Length body (0 for one with no body at
        #: all), ``None`` for a body that ends with the connection or a chunked one.
        self._left: int | None = None
        framing = _body_framing(method, head)
        if isinstance(framing, int):
            self._left = framing
        elif framing == "chunked":
            self._decoder = ChunkedDecoder()
        else:
            self._keep_alive = False

    def __repr__(self) -> str:
        return f"<H11Response [{self.status_code}]>"

    async def __aenter__(self) -> H11Response:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def read_chunk(self, timeout: float | None = None) -> bytes:
        """The next piece of the body, as soon as some bytes are available; ``b""`` once it ended.

        Everything already received is returned at once, joined.  When the body ends, the
        connection goes back to the pool (if it can be reused).

        Args:
            timeout: seconds to wait for bytes during this call, instead of ``timeout.read``.

        Raises:
            IncompleteResponseError: the connection closed before the body's declared end.
            RequestTimeoutError: no bytes arrived within the read timeout; the connection is
                closed.
            NoResponseError: the connection failed otherwise, the body was malformed, or the
                response was already closed before its end.
        """
        conn = self._conn
        if conn is None:
            if self._done:
                return b""
            raise NoResponseError(f"the response from {self._where} was closed before its end")
        seconds = self._read_timeout if timeout is None else timeout
        decoder = self._decoder
        try:
            if self._left == 0:  # no body at all (204, 304, HEAD, Content-Length: 0)
                await self._finish(conn, not self._pending)
                return b""
            while True:
                if self._pending:
                    data, self._pending = self._pending, b""
                elif self._eof:
                    data = b""
                else:
                    if decoder is not None and decoder.error is not None:
                        raise decoder.error  # found after the bytes returned last time
                    data = await _receive(conn, seconds, "reading the body", self.read_size)
                if not data:
                    self._eof = True
                    if decoder is not None:
                        decoder.end()  # raises: the body had not ended
                    if self._left is not None:  # a Content-Length body cut short
                        raise IncompleteResponseError(self._incomplete_message())
                    await self._finish(conn, False)  # a body delimited by the connection's end
                    return b""
                if decoder is not None:
                    body = decoder.feed(data)
                    if decoder.done:
                        await self._finish(conn, not decoder.surplus)
                else:
                    left = self._left
                    if left is None:
                        body = data
                    elif len(data) < left:
                        body = data
                        self._left = left - len(data)
                    else:  # bytes past the declared length: the connection is not reusable
                        body = data[:left] if len(data) > left else data
                        self._left = 0
                        await self._finish(conn, len(data) == left)
                if body:
                    self._received += len(body)
                    return body
                if self._done:
                    return b""
        except BaseException as exc:
            if self._conn is not None:
                self._conn = None
                await self._transport._discard(conn)
            if isinstance(exc, IncompleteChunkedBody):
                raise IncompleteResponseError(self._incomplete_message()) from exc
            if isinstance(exc, ChunkedError):
                raise NoResponseError(f"{self._where} sent a malformed body ({exc})") from exc
            if isinstance(exc, _NETWORK_ERRORS):
                raise NoResponseError(
                    f"reading the body from {self._where} failed after {self._received} bytes: "
                    f"{_reason(exc)}"
                ) from exc
            raise

    async def _finish(self, conn: _Connection, reusable: bool) -> None:
        """The body ended: pool the connection (when ``reusable`` and keep-alive) or close it."""
        self._conn = None
        self._done = True
        await self._transport._finished(conn, reusable and self._keep_alive)

    def _incomplete_message(self) -> str:
        if self._left is not None:
            return (
                f"{self._where} closed the connection after {self._received} of "
                f"{self._received + self._left} body bytes (Content-Length)"
            )
        return (
            f"{self._where} closed the connection after {self._received} body bytes, "
            "before the last chunk of the chunked body"
        )

    async def aclose(self) -> None:
        """Release the connection: back to the pool if the body was read to its end, else closed.

        Idempotent, and completes even while the calling task is being cancelled.
        """
        conn = self._conn
        if conn is None:
            return
        if self._left == 0:  # a body that ended at once (204, HEAD, Content-Length: 0)
            await self._finish(conn, not self._pending)
        else:
            self._conn = None
            await self._transport._discard(conn)

    def abort(self) -> None:
        """Close the connection now, without awaiting: for a stream dropped unclosed.

        Called from ``EventStreamAsync.__del__``, in the loop's thread, when a caller broke out
        of an ``async for`` without ``async with``.  The connection is never reused.
        """
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        self._transport._abort(conn)


def _body_framing(method: bytes, head: h11.Response) -> int | str:
    """How the body of ``head`` (the answer to ``method``) ends (RFC 9112 section 6.3).

    Returns:
        ``"chunked"``, ``"close"`` (at EOF), or the body's length in bytes.  h11 has already
        refused a Transfer-Encoding other than ``chunked`` and a bad or conflicting
        Content-Length.
    """
    status = head.status_code
    if status in (204, 304) or method == b"HEAD" or (method == b"CONNECT" and status < 300):
        return 0
    length: int | str = "close"
    for name, value in head.headers:  # names in lower case
        if name == b"transfer-encoding":
            return "chunked"  # it wins over Content-Length
        if name == b"content-length":
            length = int(value)
    return length


async def _receive(
    conn: _Connection, seconds: float | None, during: str, size: int = _READ_SIZE
) -> bytes:
    """The next bytes from ``conn`` (``b""`` at EOF, at most ``size``), within ``seconds``.

    Raises:
        RequestTimeoutError: nothing arrived in time.
    """
    with _deadline(seconds):
        try:
            return await conn.stream.receive(size)
        except anyio.EndOfStream:
            return b""
    raise RequestTimeoutError(
        f"read timeout: no bytes from {conn.where} within {seconds} s while {during}"
    )


# ---------------------------------------------------------------------------------------------
# The transport


class H11Transport:
    """An async HTTP/1.1 transport with a connection pool, for asyncio and trio.

    One object may serve several event loops in turn (successive ``asyncio.run`` calls, trio
    after asyncio, a loop per thread): each loop gets connections of its own.

    Args:
        verify: ``True`` for the system CAs, a CA bundle path, an ``ssl.SSLContext``, or
            ``False`` to skip verification (never the default).
        max_connections: connections open at once per event loop, in use plus idle.
        max_keepalive: idle connections kept per event loop.
        keepalive_expiry: seconds an idle connection may wait before it is closed, not reused.
        trust_env: take proxies from ``HTTP(S)_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``.
    """

    def __init__(
        self,
        *,
        verify: Verify = True,
        max_connections: int = 100,
        max_keepalive: int = 20,
        keepalive_expiry: float = 30.0,
        trust_env: bool = True,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if max_keepalive < 0:
            raise ValueError(f"max_keepalive must not be negative, got {max_keepalive}")
        if keepalive_expiry < 0:
            raise ValueError(f"keepalive_expiry must not be negative, got {keepalive_expiry}")
        self._verify = verify
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive
        self._keepalive_expiry = keepalive_expiry
        self._trust_env = trust_env
        self._ssl_context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._pools: dict[int, _LoopPool] = {}
        self._generation = 0  # bumped by aclose(): older connections are closed when released
        self._opened = 0
        self._requests = 0
        self._reused = 0
        self._stale_retries = 0

    def __repr__(self) -> str:
        return f"<H11Transport max_connections={self._max_connections}>"

    async def __aenter__(self) -> H11Transport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def stats(self) -> PoolStats:
        """Counters: connections opened, requests, reuse, retries, and the current pool sizes."""
        with self._lock:
            pools = list(self._pools.values())
            return PoolStats(
                connections_opened=self._opened,
                requests=self._requests,
                reused=self._reused,
                stale_retries=self._stale_retries,
                in_use=sum(p.total - p.n_idle for p in pools),
                idle=sum(p.n_idle for p in pools),
            )

    async def handle_async_request(self, request: Request, timeout: Timeout) -> H11Response:
        """Send ``request``; return once the status line and headers arrived.

        The caller must ``aclose`` the response (or read it to its end).

        Args:
            request: the request; ``Host`` and ``Content-Length`` are added here.
            timeout: connect, write, read (per wait for bytes) and pool timeouts.

        Returns:
            The response, its body not yet read.

        Raises:
            ValueError: the URL is not http(s), or a header holds CR, LF or NUL (before any I/O).
            RequestTimeoutError: a pool, connect, write or read timeout expired.
            NoResponseError: connecting, TLS (e.g. an untrusted certificate), sending, or the
                response head failed.
        """
        origin, target = split_url(request.url)
        proxy = proxy_for(origin, self._trust_env)
        if proxy is not None and origin.scheme == "http":
            target = f"http://{origin.netloc}{target}"
        head = _request_head(request, origin, target, proxy)
        pool = self._current_pool()
        key: _Key = (origin, proxy)
        body = request.body
        # A body that cannot be sent twice never risks a stale pooled connection.
        fresh = not isinstance(body, _BYTES) and not body.rewindable
        while True:
            conn = await self._acquire(pool, key, timeout, fresh=fresh)
            try:
                answer, sent = await self._exchange(conn, head, body, timeout)
            except _StaleConnection as exc:
                await self._discard(conn)
                if fresh:  # cannot happen: a fresh connection is never stale
                    raise NoResponseError(f"{conn.where}: {_reason(exc)}") from exc
                with self._lock:
                    self._stale_retries += 1
                fresh = True
                continue
            except BaseException:
                await self._discard(conn)
                raise
            return H11Response(self, conn, answer, timeout, head.method, reusable=sent)

    async def aclose(self) -> None:
        """Close every idle connection of the current event loop and of loops that have ended.

        Connections in use are closed when their response is. Connections of loops still
        running in other threads are left to those loops.  The transport stays usable: later
        requests open new connections.
        """
        try:
            loop = _current_loop()[1]
        except RuntimeError:
            loop = None
        mine: list[_Connection] = []
        orphans: list[_Connection] = []
        with self._lock:
            self._generation += 1
            for k, pool in list(self._pools.items()):
                if pool.loop is loop:
                    mine.extend(pool.drain())
                elif _loop_finished(pool.library, pool.loop):
                    del self._pools[k]
                    orphans.extend(pool.drain(ended=True))
        for conn in orphans:
            conn.closed = True
            _close_orphan(conn.stream)
        for conn in mine:
            conn.closed = True
            await _close_quietly(conn.stream)

    # -- pool ------------------------------------------------------------------------------------

    def _current_pool(self) -> _LoopPool:
        library, loop = _current_loop()
        orphans: list[_Connection] = []
        with self._lock:
            pool = self._pools.get(id(loop))
            if pool is None or pool.loop is not loop:
                pool = self._pools[id(loop)] = _LoopPool(library, loop)
                # A new loop: often the previous one just ended (asyncio.run again).
                for k, other in list(self._pools.items()):
                    if other is not pool and _loop_finished(other.library, other.loop):
                        del self._pools[k]
                        orphans.extend(other.drain(ended=True))
        for conn in orphans:
            conn.closed = True
            _close_orphan(conn.stream)
        return pool

    async def _acquire(
        self, pool: _LoopPool, key: _Key, timeout: Timeout, *, fresh: bool
    ) -> _Connection:
        while True:
            conn = await self._checkout(pool, key, timeout, fresh)
            if conn is None:
                break  # a slot is ours: open a connection in it
            if not _is_readable(conn.stream):
                return conn
            await self._discard(conn)  # closed by the server while idle
        origin, proxy = key
        where = _hostport(origin)
        if proxy is not None:
            where = f"{where} via proxy {_hostport(proxy.origin)}"
        try:
            stream = await self._open(origin, proxy, timeout, where)
        except BaseException:
            with self._lock:
                pool.total -= 1
                pool.wake_one()
            raise
        with self._lock:
            self._opened += 1
            return _Connection(stream, key, pool, where, self._generation)

    async def _checkout(
        self, pool: _LoopPool, key: _Key, timeout: Timeout, fresh: bool
    ) -> _Connection | None:
        """An idle connection for ``key``, or ``None`` when a slot to open one was reserved.

        Raises:
            RequestTimeoutError: no slot within ``timeout.pool``.
        """
        waiter: anyio.Event | None = None
        try:
            with _deadline(timeout.pool):
                while True:
                    to_close: list[_Connection] = []
                    with self._lock:
                        conn, granted = pool.take(
                            key,
                            time.monotonic(),
                            self._max_connections,
                            self._keepalive_expiry,
                            fresh,
                            to_close,
                        )
                        if not granted:
                            waiter = anyio.Event()
                            pool.waiters.append(waiter)
                    for old in to_close:
                        old.closed = True
                        await _close_quietly(old.stream)
                    if granted:
                        return conn
                    assert waiter is not None
                    await waiter.wait()
                    waiter = None
        finally:
            if waiter is not None:  # timed out or cancelled while waiting
                with self._lock:
                    try:
                        pool.waiters.remove(waiter)
                    except ValueError:  # woken meanwhile: pass the wake-up on
                        pool.wake_one()
        raise RequestTimeoutError(
            f"no free connection within {timeout.pool} s (pool timeout; "
            f"max_connections={self._max_connections})"
        )

    async def _finished(self, conn: _Connection, reusable: bool) -> None:
        """The response on ``conn`` was read to its end: pool the connection, or close it.

        ``reusable``: the response allowed keep-alive and no byte arrived past its end (that
        would be read as the next request's answer).  A pooled connection gets a fresh h11
        state machine: the body was read around the old one, which still waits for it.
        """
        if conn.closed:
            return
        if reusable:
            conn.h11 = h11.Connection(our_role=h11.CLIENT)
            with self._lock:
                pool = conn.pool
                if (
                    conn.generation == self._generation
                    and pool.n_idle < self._max_keepalive
                    and self._pools.get(id(pool.loop)) is pool
                ):
                    conn.idle_since = time.monotonic()
                    pool.idle.setdefault(conn.key, []).append(conn)
                    pool.n_idle += 1
                    pool.wake_one()
                    return
        await self._discard(conn)

    async def _discard(self, conn: _Connection) -> None:
        """Close ``conn`` and free its slot; idempotent, shielded from cancellation."""
        if conn.closed:
            return
        conn.closed = True
        with self._lock:
            conn.pool.total -= 1
            conn.pool.wake_one()
        await _close_quietly(conn.stream)

    def _abort(self, conn: _Connection) -> None:
        """Close ``conn`` and free its slot without awaiting (see ``H11Response.abort``)."""
        if conn.closed:
            return
        conn.closed = True
        with self._lock:
            conn.pool.total -= 1
            conn.pool.wake_one()
        _abort_stream(conn.stream)

    # -- I/O -------------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        ctx = self._ssl_context
        if ctx is None:  # loading CAs takes milliseconds: once per transport
            ctx = self._ssl_context = make_ssl_context(self._verify)
        return ctx

    async def _open(
        self, origin: Origin, proxy: Proxy | None, timeout: Timeout, where: str
    ) -> anyio.abc.ByteStream:
        """A connected (and, for https, TLS-wrapped) stream to ``origin``.

        Raises:
            RequestTimeoutError: not done within ``timeout.connect``.
            NoResponseError: refused, unreachable, DNS, proxy or TLS failure.
        """
        with _deadline(timeout.connect):
            try:
                return await self._connect(origin, proxy, where)
            except R9SError:
                raise
            except _NETWORK_ERRORS as exc:
                cert = _verification_error(exc)
                if cert is not None:
                    raise NoResponseError(
                        f"the TLS certificate of {_hostport(origin)} could not be verified: "
                        f"{cert.verify_message or cert.reason}"
                    ) from exc
                if isinstance(exc, ssl.SSLError):
                    raise NoResponseError(
                        f"TLS handshake with {where} failed: {_reason(exc)}"
                    ) from exc
                raise NoResponseError(f"could not connect to {where}: {_reason(exc)}") from exc
        raise RequestTimeoutError(
            f"connect timeout: no connection to {where} within {timeout.connect} s"
        )

    async def _connect(
        self, origin: Origin, proxy: Proxy | None, where: str
    ) -> anyio.abc.ByteStream:
        if proxy is None:
            if origin.scheme == "https":
                return await anyio.connect_tcp(
                    origin.host,
                    origin.port,
                    tls=True,
                    ssl_context=self._tls_context(),
                    tls_standard_compatible=False,
                    tls_hostname=origin.host,
                )
            return await anyio.connect_tcp(origin.host, origin.port)
        stream: anyio.abc.ByteStream
        if proxy.origin.scheme == "https":
            stream = await anyio.connect_tcp(
                proxy.origin.host,
                proxy.origin.port,
                tls=True,
                ssl_context=self._tls_context(),
                tls_standard_compatible=False,
                tls_hostname=proxy.origin.host,
            )
        else:
            stream = await anyio.connect_tcp(proxy.origin.host, proxy.origin.port)
        if origin.scheme == "http":
            return stream  # plain HTTP goes through the proxy in absolute form
        try:
            await _tunnel(stream, origin, proxy, where)
            return await TLSStream.wrap(
                stream,
                server_side=False,
                hostname=origin.host,
                ssl_context=self._tls_context(),
                standard_compatible=False,
            )
        except BaseException:
            await _close_quietly(stream)
            raise

    async def _exchange(
        self, conn: _Connection, head: h11.Request, body: Body, timeout: Timeout
    ) -> tuple[h11.Response, bool]:
        """Send the request on ``conn`` and read the response head.

        Returns:
            The response head, and whether the request went out whole.  When sending failed
            but the server had already answered (an early ``413`` or ``401``), that answer
            is returned with ``False``: the connection is never reused.

        Raises:
            _StaleConnection: a reused connection failed before any response byte.
            RequestTimeoutError: the write or read timeout expired.
            NoResponseError: sending failed, or no valid response head arrived.
            BodyReadError: a streamed body's source failed (the request went out cut short).
        """
        reused = conn.requests > 0
        conn.requests += 1
        with self._lock:
            self._requests += 1
            self._reused += reused
        h = conn.h11
        failure: BaseException | None = None
        if isinstance(body, _BYTES):
            data = h.send(head) or b""
            if body:
                data += h.send(h11.Data(data=body)) or b""
            data += h.send(h11.EndOfMessage()) or b""
            # A large body may take a while to go out, and the server may answer and close
            # before it has (RFC 9112 section 9.6).  asyncio closes the socket as soon as a
            # write fails, discarding what it has not read yet, so the answer is read while
            # the body is sent.
            watch = len(data) > _WATCH_SIZE and _keep_reading(conn.stream, True)
            try:
                with _deadline(timeout.write):
                    await conn.stream.send(data)
                    data = b""
                if data:
                    failure = RequestTimeoutError(
                        f"write timeout: could not send the request to {conn.where} "
                        f"within {timeout.write} s"
                    )
            except _NETWORK_ERRORS as exc:
                failure = exc
            finally:
                if watch:
                    _keep_reading(conn.stream, False)
        else:
            failure = await _send_streamed(conn, head, body, timeout)
        if failure is not None:
            stale = reused and not isinstance(failure, R9SError)
            early = await _early_answer(conn, timeout.read)
            if early is not None and not (stale and early.status_code == 408):
                return early, False
            if isinstance(failure, R9SError):
                raise failure
            if stale:  # no answer, or a 408: the server had given up on the idle connection
                raise _StaleConnection(f"sending failed: {_reason(failure)}") from failure
            raise NoResponseError(
                f"sending the request to {conn.where} failed: {_reason(failure)}"
            ) from failure

        received = 0
        while True:
            try:
                event = h.next_event()
                if event is h11.NEED_DATA:
                    chunk = await _receive(conn, timeout.read, "waiting for the response headers")
                    if not chunk and not received:
                        if reused:
                            raise _StaleConnection("closed before any response byte")
                        raise NoResponseError(
                            f"{conn.where} closed the connection without sending a response"
                        )
                    received += len(chunk)
                    h.receive_data(chunk)
                    continue
            except _NETWORK_ERRORS as exc:
                if isinstance(exc, h11.RemoteProtocolError):
                    raise NoResponseError(
                        f"{conn.where} sent an invalid response ({_h11_reason(exc)})"
                    ) from exc
                if reused and not received:
                    raise _StaleConnection(_reason(exc)) from exc
                raise NoResponseError(
                    f"reading the response from {conn.where} failed: {_reason(exc)}"
                ) from exc
            if isinstance(event, h11.Response):
                return event, True
            if isinstance(event, h11.InformationalResponse):
                continue  # 100 Continue and friends
            raise NoResponseError(f"{conn.where} sent no response ({type(event).__name__})")


async def _send_streamed(
    conn: _Connection, head: h11.Request, body: StreamedBody, timeout: Timeout
) -> BaseException | None:
    """Send ``head`` and then ``body`` piece by piece on ``conn``, h11 framing it.

    Returns:
        ``None`` once all of it was sent; otherwise what stopped it: a network error, a
        ``RequestTimeoutError`` (one piece not sent within the write timeout), or a
        ``ConnectionError`` when the server sent something first (an answer, or EOF).

    Raises:
        BodyReadError: the body's source failed or did not match its declared length.
    """
    h = conn.h11
    stream = conn.stream
    pieces = checked_pieces(body)
    # As for a large bytes body: on asyncio the loop keeps reading while the body goes out,
    # so that an answer survives a failed write; and it shows whether one has come.
    watch = _keep_reading(stream, True)
    answered = None if isinstance(stream, TLSStream) else _answer_watch(stream, watch)
    try:
        data = h.send(head) or b""
        first = next(pieces, None)
        if first is not None:
            framed = h.send_with_data_passthrough(h11.Data(data=first)) or []
            if len(first) <= _JOIN_LIMIT:
                data = b"".join([data, *framed])
            else:
                if not await _send_within(stream, data, timeout.write):
                    return _write_timeout(conn, timeout)
                data = b"".join(framed)
        if not await _send_within(stream, data, timeout.write):
            return _write_timeout(conn, timeout)
        for piece in pieces:
            if answered is not None and answered():
                return ConnectionError(
                    "the server answered or closed the connection before the request body "
                    "was sent whole"
                )
            framed = h.send_with_data_passthrough(h11.Data(data=piece)) or []
            data = framed[0] if len(framed) == 1 else b"".join(framed)
            if not await _send_within(stream, data, timeout.write):
                return _write_timeout(conn, timeout)
        data = h.send(h11.EndOfMessage()) or b""
        if data and not await _send_within(stream, data, timeout.write):
            return _write_timeout(conn, timeout)
    except _NETWORK_ERRORS as exc:
        return exc
    finally:
        pieces.close()  # closes a file the body opened, when the send stopped midway
        if watch:
            _keep_reading(stream, False)
    return None


async def _send_within(stream: anyio.abc.ByteStream, data: bytes, seconds: float | None) -> bool:
    """Send ``data``; ``False`` when that took over ``seconds`` (the send was cancelled)."""
    with _deadline(seconds):
        await stream.send(data)
        return True
    return False


def _write_timeout(conn: _Connection, timeout: Timeout) -> RequestTimeoutError:
    return RequestTimeoutError(
        f"write timeout: could not send the request to {conn.where} within {timeout.write} s"
    )


def _answer_watch(stream: anyio.abc.ByteStream, reading: bool) -> Callable[[], bool] | None:
    """A function saying, without waiting, whether the server sent something on ``stream``.

    Whether the socket polls readable (the kernel holds an answer, EOF or a reset) or, on
    asyncio while the loop reads for us (``_keep_reading``), whether anyio's protocol already
    took something in (its ``read_event``).  Both, on asyncio: the loop reads only when it
    gets to run, and a send that completes at once does not let it; a write that then fails
    makes asyncio drop the socket with the answer unread.  ``None`` when nothing can be told.
    """
    checks: list[Callable[[], bool]] = []
    protocol = getattr(stream, "_protocol", None)  # anyio's asyncio SocketStream
    is_set = getattr(getattr(protocol, "read_event", None), "is_set", None)
    if reading and callable(is_set):
        checks.append(is_set)
    poll = getattr(select, "poll", None)
    try:
        fd = stream.extra(anyio.abc.SocketAttribute.raw_socket).fileno()
    except Exception:
        fd = -1
    if fd >= 0 and poll is not None:
        poller = poll()
        poller.register(fd, select.POLLIN)
        checks.append(lambda: bool(poller.poll(0)))
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    first, second = checks
    return lambda: bool(first() or second())


async def _early_answer(conn: _Connection, read_timeout: float | None) -> h11.Response | None:
    """The response head a server sent before sending the request to it failed, if any.

    A server may answer while the body is still coming (a ``413`` from a proxy, a ``401``
    decided on the head alone) and then close, or stop reading: sending then fails with a
    broken pipe or a reset, or times out.  What the server sent first is still there to read:
    in the kernel's receive buffer (Linux keeps it even after a reset; some systems discard it
    on a reset, and then nothing is found) or, on asyncio, already read (``_keep_reading``).
    Waits at most ``min(read_timeout, _EARLY_ANSWER_WAIT)`` in all; h11 bounds the head's size.

    Returns:
        The final response head, or ``None`` when no valid one arrived in time.
    """
    h = conn.h11
    wait = _EARLY_ANSWER_WAIT if read_timeout is None else min(read_timeout, _EARLY_ANSWER_WAIT)
    with _deadline(wait):
        try:
            while True:
                event = h.next_event()
                if event is h11.NEED_DATA:
                    try:
                        chunk = await conn.stream.receive(_READ_SIZE)
                    except anyio.EndOfStream:
                        chunk = b""
                    h.receive_data(chunk)  # b"": the end of the stream, said to h11
                elif isinstance(event, h11.Response):
                    return event
                elif not isinstance(event, h11.InformationalResponse):
                    return None  # ConnectionClosed: nothing, or nothing more
        except _NETWORK_ERRORS:
            return None
    return None


def _keep_reading(stream: anyio.abc.ByteStream, on: bool) -> bool:
    """On asyncio, let the loop read ``stream``'s socket while it is not being received from.

    anyio pauses reading on an asyncio socket between ``receive`` calls, and asyncio closes the
    socket as soon as a write fails, with whatever the server sent still unread in the kernel:
    a server's early answer would be lost.  While reading is on, the loop stores what arrives
    (anyio's ``receive`` returns it first).  A trio socket stays open after a failed send, so
    there is nothing to do there.

    Returns:
        Whether reading could be switched (asyncio); ``False`` otherwise.
    """
    inner: Any = stream
    while isinstance(inner, TLSStream):
        inner = inner.transport_stream
    transport = getattr(inner, "_transport", None)  # anyio's asyncio SocketStream
    if transport is None:
        return False
    try:
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()
    except Exception:  # an unexpected transport: keep anyio's own behaviour
        return False
    return True


async def _tunnel(stream: anyio.abc.ByteStream, origin: Origin, proxy: Proxy, where: str) -> None:
    """Ask the proxy on ``stream`` for a ``CONNECT`` tunnel to ``origin``.

    Raises:
        NoResponseError: the proxy refused (any non-2XX answer) or answered nonsense.
    """
    authority = _hostport(origin).encode("idna")
    fields = [(b"Host", authority)]
    if proxy.authorization:
        fields.append((b"Proxy-Authorization", proxy.authorization.encode("latin-1")))
    conn = h11.Connection(our_role=h11.CLIENT)
    data = conn.send(h11.Request(method=b"CONNECT", target=authority, headers=fields)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    await stream.send(data)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                chunk = await stream.receive(_READ_SIZE)
            except anyio.EndOfStream:
                chunk = b""
            conn.receive_data(chunk)
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            if not 200 <= event.status_code < 300:
                raise NoResponseError(
                    f"proxy {_hostport(proxy.origin)} refused to tunnel to {_hostport(origin)}: "
                    f"{event.status_code} {event.reason.decode('latin-1')}"
                )
            leftover, _closed = conn.trailing_data
            if leftover:
                raise NoResponseError(
                    f"proxy {_hostport(proxy.origin)} sent data after its CONNECT answer"
                )
            return
        raise NoResponseError(f"{where}: the proxy closed the connection during CONNECT")
