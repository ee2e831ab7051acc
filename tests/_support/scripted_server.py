"""Scripted HTTP/1.1 servers on 127.0.0.1: one thread per connection, every wait bounded.

Why not ``r9s.testing.FakeServer``: transport and fault tests need byte-level control (reset
after exactly N bytes, drip an answer one byte at a time, send a status line no server would),
and a peer that does not depend on the event loop under test.  Blocking sockets in threads
serve the sync tests and the async ones (asyncio and trio) alike, so there is one server.

A ``ScriptedServer`` runs a *script* once per accepted connection, in its own thread; the
script gets the server's end of the connection, a ``Conn``::

    def script(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(response(b"hello"))

    with ScriptedServer(script) as server:
        ... server.url("/v1/chat") ... server.connections ... server.requests ...

Ready-made scripts, from the most to the least control::

    serve_requests(handler)  handler(conn, request) writes the answer, says whether to go on
    keepalive(app)           app(request) returns the answer's bytes (None: close instead)
    answer_once(writes)      one request per connection, each write its own segment, FIN
    serve_ok                 "ok" to every request until the client closes

Misbehaving is done on the ``Conn``: ``drip``, ``hold``, ``reset`` (TCP RST), ``close``,
``close_write`` (FIN), ``wait_closed``; ``conn.sock`` is the socket itself.  ``BlackHole`` is a
port that never accepts; ``response``, ``chunked``, ``chunked_body`` and ``chunk`` build answers.

The rules every helper here keeps, so that no test can hang the suite or leak a thread or a
socket (the suite runs with ``ResourceWarning`` and unraisable exceptions as errors):

- listen on 127.0.0.1 only, on a port the OS picks;
- every socket operation times out after ``IO_TIMEOUT``; every loop ends on a count, a
  deadline, the client closing, or the server stopping;
- ``ScriptedServer.close()`` stops accepting, sets the ``release`` events, shuts every
  connection down (waking scripts blocked in ``recv``), joins every thread within
  ``JOIN_TIMEOUT`` and closes every socket; a script still running then is an error.

The HTTP here is just enough to script a server: requests are framed by ``Content-Length``
only (our clients send nothing else), and answers are bytes the test chose.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = [
    "CHUNKED_HEAD",
    "IO_TIMEOUT",
    "JOIN_TIMEOUT",
    "BlackHole",
    "Conn",
    "ReceivedRequest",
    "Script",
    "ScriptedServer",
    "TLSFiles",
    "answer_once",
    "chunk",
    "chunked",
    "chunked_body",
    "free_port",
    "keepalive",
    "relay",
    "response",
    "serve_ok",
    "serve_requests",
    "server_context",
    "wait_until",
]

#: Upper bound of any single blocking socket operation on the server's side.
IO_TIMEOUT = 5.0
#: How long ``ScriptedServer.close`` waits for all its threads together.
JOIN_TIMEOUT = 5.0
#: How often the accept loop looks at the stop flag (``close`` also wakes it at once).
ACCEPT_POLL = 0.05
#: Largest request head and body read (our clients send a few hundred bytes; the largest
#: request body of a test is well under a megabyte).
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
#: Bound on the requests one connection carries in the ready-made scripts.
MAX_REQUESTS = 10_000
_RECV_SIZE = 65536


# -- what the server reads --------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server read it: the request line, headers in order and case, body."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = field(repr=False, default=b"")

    def header(self, name: str) -> str | None:
        """The values of header ``name`` (any case) joined with ", ", or ``None``."""
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def header_list(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in order."""
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def header_names(self) -> list[str]:
        """The header names, lower-cased, in order."""
        return [k.lower() for k, _ in self.headers]

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def stream(self) -> bool:
        """Whether the body is a JSON object asking for ``"stream": true``."""
        doc = self.json
        return isinstance(doc, dict) and doc.get("stream") is True


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return method, target, version, headers


def _content_length(headers: list[tuple[str, str]]) -> int:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return min(int(value), MAX_BODY)
            except ValueError:
                return 0
    return 0


# -- one connection -----------------------------------------------------------------------------


class Conn:
    """The server's end of one connection: a script's only tool.

    Attributes:
        sock: the socket (TLS-wrapped for a TLS server).
        index: 0 for the server's first connection, and so on.
        requests: the requests read on this connection.
        buf: bytes received past the last request read (say, the start of a TLS handshake
            after a CONNECT).
        closed_by_peer: set once the server saw the client close (EOF or reset).
        closed: whether the server's side was closed.
    """

    def __init__(self, sock: socket.socket, index: int, server: ScriptedServer) -> None:
        self.sock = sock
        self.index = index
        self.requests: list[ReceivedRequest] = []
        self.buf = b""
        self.closed_by_peer = threading.Event()
        self.closed = False
        self._server = server

    @property
    def stopping(self) -> bool:
        """Whether the server is stopping: a script that can end early should."""
        return self._server.stopping.is_set()

    def _recv(self) -> bytes:
        """Bytes received; ``b""`` once the client closed or reset.

        Raises:
            TimeoutError: nothing came within the socket's timeout.
        """
        try:
            data = self.sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise
        except (OSError, ValueError):
            data = b""
        if not data:
            self.closed_by_peer.set()
        return data

    def read_request(self) -> ReceivedRequest | None:
        """The next request, framed by its ``Content-Length``.

        Returns:
            The request (also added to ``requests`` and the server's ``requests``), or
            ``None`` when the client closed (or reset) the connection, before or within a
            request, or the head grew past ``MAX_HEAD``.

        Raises:
            TimeoutError: nothing came within ``IO_TIMEOUT`` (a script ends there, and the
                server's ``errors`` has it).
        """
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            if len(self.buf) > MAX_HEAD:
                return None
            data = self._recv()
            if not data:
                return None
            self.buf += data
        head, rest = self.buf[:end], self.buf[end + 4 :]
        method, target, version, headers = _parse_head(head)
        length = _content_length(headers)
        while len(rest) < length:  # each pass adds bytes, at most MAX_BODY of them
            data = self._recv()
            if not data:
                return None
            rest += data
        self.buf = rest[length:]
        request = ReceivedRequest(method, target, version, headers, rest[:length], head)
        self.requests.append(request)
        self._server.requests.append(request)
        return request

    def send(self, data: bytes) -> bool:
        """Send all of ``data``; ``False`` when the client is gone (a script may go on)."""
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ValueError):
            return False

    def sendall(self, data: bytes) -> None:
        """Send all of ``data``; a client that is gone raises (the server's ``errors``)."""
        self.sock.sendall(data)

    def drip(self, data: bytes, gap: float = 0.0005) -> bool:
        """Send ``data`` one byte per TCP segment, ``gap`` seconds apart; ``False`` if cut."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            if self.stopping or not self.send(data[i : i + 1]):
                return False
            time.sleep(gap)
        return True

    def hold(self, seconds: float) -> None:
        """Stay silent for ``seconds`` (less if the server stops)."""
        self._server.stopping.wait(seconds)

    def wait_closed(self, timeout: float = IO_TIMEOUT) -> bool:
        """Read and drop bytes until the client closes; whether it did within ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            while not self.closed_by_peer.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.sock.settimeout(min(remaining, 0.1))
                with contextlib.suppress(TimeoutError):
                    self._recv()
            self.sock.settimeout(IO_TIMEOUT)
        except (OSError, ValueError):
            pass
        return self.closed_by_peer.is_set()

    def close_write(self) -> None:
        """Half-close: send a FIN, keep reading possible."""
        with contextlib.suppress(OSError, ValueError):
            self.sock.shutdown(socket.SHUT_WR)

    def reset(self, settle: float = 0.0) -> None:
        """Close with a TCP RST instead of a FIN, ``settle`` seconds after the last send."""
        if self.closed:
            return
        if settle:
            self.hold(settle)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        """Close the server's side (idempotent)."""
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def _wake(self) -> None:
        # socket.socket.shutdown, not SSLSocket's: no TLS alert, just wake a blocked recv.
        with contextlib.suppress(OSError, ValueError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


#: A script runs once per accepted connection, in the connection's thread.
Script = Callable[[Conn], None]


# -- the server ---------------------------------------------------------------------------------


def serve_ok(conn: Conn) -> None:
    """The default script: answer ``ok`` to every request until the client closes."""
    for _ in range(MAX_REQUESTS):
        if conn.read_request() is None:
            return
        conn.send(response(b"ok"))


class _Listening:
    """What both servers share: 127.0.0.1, ``close()``, and ``with`` calling it."""

    host = "127.0.0.1"

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ScriptedServer(_Listening):
    """A TCP (or TLS) server on 127.0.0.1 running a script once per accepted connection.

    Args:
        script: run once per connection, in its own thread; the connection is closed when it
            returns.  ``script`` is also an attribute: setting it changes what connections
            accepted from then on run (a module-scoped server serving one answer per test).
        ssl_context: a server context: each connection's TLS handshake runs in its thread
            before the script.
        release: events ``close()`` sets first, so scripts waiting on them finish even when
            a test failed before setting them.

    Attributes:
        port: the port on 127.0.0.1.
        conns: every accepted connection, in order.
        requests: every request read (by ``Conn.read_request``), in order.
        errors: exceptions scripts raised (a client that went away shows up here, when the
            script sent with ``sendall``).
        tls_errors: failed TLS handshakes (a client rejecting the certificate shows up here).
        stopping: set when the server stops; scripts that wait should wait on it.

    Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        script: Script = serve_ok,
        *,
        ssl_context: ssl.SSLContext | None = None,
        release: Iterable[threading.Event] = (),
    ) -> None:
        self.script = script
        self._ssl_context = ssl_context
        self._release = list(release)
        self.conns: list[Conn] = []
        self.requests: list[ReceivedRequest] = []
        self.errors: list[BaseException] = []
        self.tls_errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((self.host, 0))
            self._listener.listen(128)
            self._listener.settimeout(ACCEPT_POLL)
        except BaseException:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"scripted-server-{self.port}", daemon=True
        )
        self._acceptor.start()

    def url(self, path: str = "/", *, scheme: str | None = None, host: str | None = None) -> str:
        """``http(s)://127.0.0.1:<port><path>``; ``host`` names it otherwise (``localhost``)."""
        scheme = scheme or ("https" if self._ssl_context else "http")
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return len(self.conns)

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was shut down or closed
                return
            sock.settimeout(IO_TIMEOUT)
            with self._lock:
                if self.stopping.is_set():
                    sock.close()
                    return
                conn = Conn(sock, len(self.conns), self)
                self.conns.append(conn)
                thread = threading.Thread(
                    target=self._run,
                    args=(conn, self.script),
                    name=f"scripted-server-{self.port}-{conn.index}",
                    daemon=True,
                )
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _run(self, conn: Conn, script: Script) -> None:
        try:
            if self._ssl_context is not None:
                try:
                    conn.sock = self._ssl_context.wrap_socket(conn.sock, server_side=True)
                except (OSError, ValueError) as exc:
                    self.tls_errors.append(exc)
                    conn.closed_by_peer.set()
                    return
            script(conn)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            conn.close()

    def close(self) -> None:
        """Stop accepting, wake and join every script (bounded), close every socket.

        Raises:
            RuntimeError: a script was still running ``JOIN_TIMEOUT`` seconds later.
        """
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        for event in self._release:
            event.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        self._acceptor.join(JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            conns, threads = list(self.conns), list(self._threads)
        for conn in conns:
            conn._wake()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for conn in conns:
            conn.close()
        alive = sum(t.is_alive() for t in [self._acceptor, *threads])
        if alive:
            raise RuntimeError(f"{alive} scripted server thread(s) still running after close")


class BlackHole(_Listening):
    """A port that never answers: listening with its backlog full, never accepting.

    Linux drops the SYN of a connection that would overflow the accept queue, so a client's
    connect neither succeeds nor fails: it waits for its own connect timeout.
    """

    def __init__(self, fillers: int = 4) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._fillers: list[socket.socket] = []
        try:
            self._listener.bind((self.host, 0))
            self._listener.listen(0)
            self.port: int = self._listener.getsockname()[1]
            for _ in range(fillers):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._fillers.append(filler)
                filler.setblocking(False)
                filler.connect_ex((self.host, self.port))
            time.sleep(0.05)  # let the handshakes that fit complete
        except BaseException:
            self.close()
            raise

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._listener.close()


# -- ready-made scripts -------------------------------------------------------------------------

#: Answers one request; returns whether the connection may carry another one.
Handler = Callable[[Conn, ReceivedRequest], bool]


def serve_requests(handler: Handler, *, max_requests: int = MAX_REQUESTS) -> Script:
    """A script reading requests and handing each to ``handler(conn, request)``.

    The handler writes whatever it likes (or nothing) and returns whether the connection may
    carry another request.  The loop also ends when the client closes, the server stops, or
    after ``max_requests``.
    """

    def script(conn: Conn) -> None:
        for _ in range(max_requests):
            if conn.stopping or conn.closed:
                return
            request = conn.read_request()
            if request is None or not handler(conn, request):
                return

    return script


def keepalive(
    app: Callable[[ReceivedRequest], bytes | None], *, max_requests: int = MAX_REQUESTS
) -> Script:
    """A script answering each request on a connection with the bytes ``app(request)`` returns.

    ``None`` from ``app`` closes the connection without an answer; an answer whose head says
    ``Connection: close`` is the connection's last.  Sending uses ``sendall``: a client gone
    before its answer is one of the server's ``errors``.
    """

    def handle(conn: Conn, request: ReceivedRequest) -> bool:
        answer = app(request)
        if answer is None:
            return False
        conn.sendall(answer)
        head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
        return "\r\nconnection: close" not in head

    return serve_requests(handle, max_requests=max_requests)


def answer_once(
    writes: bytes | Callable[[ReceivedRequest], Iterable[bytes]], *, hold: float = 0.0
) -> Script:
    """A script answering one request per connection, then half-closing.

    Args:
        writes: the answer, or ``writes(request)``: the answer's pieces, each sent with its
            own ``sendall`` (``TCP_NODELAY``: a segment each, so the client sees the splits).
        hold: instead of half-closing, keep the connection open (reading and dropping what
            the client sends) until the client closes or ``hold`` seconds pass.
    """

    def script(conn: Conn) -> None:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = conn.read_request()
        if request is None:
            return
        for data in [writes] if isinstance(writes, bytes) else writes(request):
            conn.sendall(data)
        if hold:
            conn.wait_closed(hold)
        else:
            conn.close_write()

    return script


def relay(a: socket.socket, b: socket.socket, *, seconds: float = IO_TIMEOUT) -> None:
    """Copy bytes both ways until either side closes (or ``seconds`` pass): a tunnel."""
    deadline = time.monotonic() + seconds
    peers = {a: b, b: a}
    while time.monotonic() < deadline:
        readable, _, _ = select.select([a, b], [], [], 0.05)
        for sock in readable:
            try:
                data = sock.recv(_RECV_SIZE)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)


# -- answers --------------------------------------------------------------------------------------

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _head(status_line: str, headers: Headers, *last: str) -> bytes:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lines = [status_line, *(f"{k}: {v}" for k, v in pairs), *last]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(
    body: bytes = b"",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Headers = (),
    length: int | None = None,
) -> bytes:
    """A whole HTTP/1.1 answer with a Content-Length (``length`` overrides it, to lie)."""
    declared = len(body) if length is None else length
    return _head(f"HTTP/1.1 {status} {reason}", headers, f"Content-Length: {declared}") + body


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body (``b""`` makes the last chunk)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunked_body(*pieces: bytes, last: bool = True) -> bytes:
    """``pieces`` in chunked coding (empty ones left out), with the last chunk unless not."""
    return b"".join(chunk(p) for p in pieces if p) + (b"0\r\n\r\n" if last else b"")


#: The head of a chunked ``text/plain`` answer, for ``CHUNKED_HEAD + chunked_body(...)``.
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"


def chunked(
    chunks: Iterable[bytes], *, status: int = 200, headers: Headers = (), end: bool = True
) -> bytes:
    """A whole chunked answer, a chunk per item; ``end=False`` leaves out the last chunk."""
    out = _head(f"HTTP/1.1 {status} OK", headers, "Transfer-Encoding: chunked")
    out += b"".join(chunk(c) for c in chunks)
    return out + (b"0\r\n\r\n" if end else b"")


# -- odds and ends --------------------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float = IO_TIMEOUT) -> bool:
    """Poll ``predicate`` (from a thread, or sync code) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def server_context(cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """A TLS server context presenting ``cert`` (with its ``key``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


@dataclass(frozen=True)
class TLSFiles:
    """A throwaway CA and a server certificate signed by it."""

    ca: Path  # the CA certificate clients trust (``verify=str(ca)``)
    cert: Path  # the server certificate (SAN: IP 127.0.0.1, DNS localhost)
    key: Path

    def server_context(self) -> ssl.SSLContext:
        return server_context(self.cert, self.key)
