"""Scripted TCP servers on 127.0.0.1 for transport tests, sync and async clients alike.

``start_server(handler)`` listens on 127.0.0.1 port 0 and runs ``handler(conn)`` in a thread per
accepted connection; the handler owns the exchange byte by byte (so it can misbehave on purpose:
stall, cut a body short, reset).  The server counts connections, records handler errors, and
``stop()`` joins every thread with a bound.  Every socket has a timeout, every loop a bound.

The HTTP helpers (``RequestReader``, ``response``, ``chunked``, ``keepalive``) are deliberately
small: just enough HTTP/1.1 to script a server.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType

__all__ = [
    "ReceivedRequest",
    "RequestReader",
    "ScriptedServer",
    "chunk",
    "chunked",
    "free_port",
    "keepalive",
    "relay",
    "reset",
    "response",
    "start_server",
]

Handler = Callable[[socket.socket], None]

#: Timeout of every server-side socket operation.
SOCKET_TIMEOUT = 5.0
#: Bound on each thread join in ``stop()``.
JOIN_TIMEOUT = 3.0


class ScriptedServer:
    """A thread-per-connection TCP server; use ``start_server`` to make one."""

    host = "127.0.0.1"

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        release: Iterable[threading.Event] = (),
    ) -> None:
        self._handler = handler
        self._release = list(release)
        self._ssl_context = ssl_context
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        #: Connections accepted so far.
        self.connections = 0
        #: Exceptions raised by handlers (a client closing early shows up here too).
        self.errors: list[BaseException] = []
        #: TLS handshakes that failed (a client rejecting the certificate shows up here).
        self.tls_errors: list[BaseException] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/", *, scheme: str | None = None, host: str | None = None) -> str:
        scheme = scheme or ("https" if self._ssl_context else "http")
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(SOCKET_TIMEOUT)
            with self._lock:
                self.connections += 1
                self._sockets.append(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        sock = conn
        try:
            if self._ssl_context is not None:
                try:
                    sock = self._ssl_context.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError) as exc:
                    with self._lock:
                        self.tls_errors.append(exc)
                    return
                with self._lock:
                    self._sockets.append(sock)
            self._handler(sock)
        except BaseException as exc:
            with self._lock:
                self.errors.append(exc)
        finally:
            sock.close()
            conn.close()

    def stop(self) -> None:
        """Stop accepting, wake and join every handler (bounded), close every socket.

        Raises:
            RuntimeError: a handler thread did not finish within the bound.
        """
        self._stopping.set()
        for event in self._release:
            event.set()
        self._acceptor.join(JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
            sockets = list(self._sockets)
        for sock in sockets:  # wake handlers blocked in recv (e.g. on an idle keep-alive)
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in sockets:
            sock.close()
        if any(t.is_alive() for t in threads):
            raise RuntimeError("a scripted server handler did not finish")

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_server(
    handler: Handler,
    *,
    ssl_context: ssl.SSLContext | None = None,
    release: Iterable[threading.Event] = (),
) -> ScriptedServer:
    """Listen on 127.0.0.1 port 0 and run ``handler(conn)`` in a thread per connection.

    Args:
        handler: runs once per accepted connection, in its own thread; the socket has a 5 s
            timeout and is closed after the handler returns.
        ssl_context: a server context: each connection is wrapped before the handler runs.
        release: events that ``stop()`` sets first, so handlers waiting on them finish even
            when a test failed before setting them.

    Use it as a context manager, or call ``stop()``.
    """
    return ScriptedServer(handler, ssl_context=ssl_context, release=release)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def reset(conn: socket.socket) -> None:
    """Close ``conn`` with a TCP RST instead of a FIN."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# -- HTTP/1.1, just enough ----------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = field(repr=False, default=b"")

    def header(self, name: str) -> str | None:
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class RequestReader:
    """Reads successive requests from one connection (keep-alive), keeping leftover bytes."""

    MAX_HEAD = 65536

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = b""

    def _fill(self) -> bool:
        data = self.conn.recv(65536)
        self.buf += data
        return bool(data)

    def read_request(self) -> ReceivedRequest | None:
        """The next request, or ``None`` if the client closed before sending one."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > self.MAX_HEAD:
                raise ValueError("request head too large")
            if not self._fill():
                if self.buf:
                    raise ValueError("client closed mid-head")
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        req = ReceivedRequest(method, target, version, headers, b"", head)
        length = int(req.header("content-length") or 0)
        while len(self.buf) < length:
            if not self._fill():
                raise ValueError("client closed mid-body")
        req.body, self.buf = self.buf[:length], self.buf[length:]
        return req


def response(
    body: bytes = b"",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Iterable[tuple[str, str]] = (),
    length: int | None = None,
) -> bytes:
    """A Content-Length response (``length`` overrides the declared length)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(
    chunks: Iterable[bytes],
    *,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    end: bool = True,
) -> bytes:
    """A chunked response; ``end=False`` leaves out the last chunk."""
    lines = [f"HTTP/1.1 {status} OK", *(f"{k}: {v}" for k, v in headers)]
    lines.append("Transfer-Encoding: chunked")
    out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    for c in chunks:
        out += chunk(c)
    if end:
        out += b"0\r\n\r\n"
    return out


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def keepalive(
    app: Callable[[ReceivedRequest], bytes],
    *,
    seen: list[ReceivedRequest] | None = None,
    max_requests: int = 10_000,
) -> Handler:
    """A handler serving requests on one connection until the client closes it."""

    def handler(conn: socket.socket) -> None:
        reader = RequestReader(conn)
        for _ in range(max_requests):
            req = reader.read_request()
            if req is None:
                return
            if seen is not None:
                seen.append(req)
            conn.sendall(app(req))

    return handler


def relay(a: socket.socket, b: socket.socket, *, seconds: float = 5.0) -> None:
    """Copy bytes both ways until either side closes (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    peers = {a: b, b: a}
    while time.monotonic() < deadline:
        readable, _, _ = select.select([a, b], [], [], 0.05)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)
