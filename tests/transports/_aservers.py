"""Scripted HTTP servers on 127.0.0.1 for the async transport's tests.

Plain ``socket`` plus threads, so a server is independent of the event loop under test (asyncio
or trio) and can misbehave on purpose: stall, reset, cut a body short, send a bad status line.
A server runs one *script* per accepted connection, in its own thread::

    def script(conn: ServerConn) -> None:
        while conn.recv_request() is not None:
            conn.send(response(b"hello"))

    with ScriptedServer(script) as server:
        ... server.url("/v1/chat") ...

Every socket operation has a timeout (``IO_TIMEOUT``), every loop ends when the client closes or
the server stops, and stopping shuts every connection down so no thread outlives the test.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "IO_TIMEOUT",
    "RecordedRequest",
    "ScriptedServer",
    "ServerConn",
    "TLSFiles",
    "chunked",
    "response",
    "wait_until",
]

#: Upper bound of any single blocking socket operation in a script.
IO_TIMEOUT = 5.0


@dataclass
class RecordedRequest:
    """One request as the server parsed it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def header_names(self) -> list[str]:
        return [k.lower() for k, _ in self.headers]


def response(
    body: bytes = b"",
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    *,
    reason: str = "OK",
    length: int | None = None,
) -> bytes:
    """A whole HTTP/1.1 response with a Content-Length (``length`` overrides it, to lie)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, last: bool = True) -> bytes:
    """``pieces`` in chunked transfer coding, with the last chunk unless ``last`` is False."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return out + (b"0\r\n\r\n" if last else b"")


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"


class ServerConn:
    """The server's end of one connection, with helpers for scripts."""

    def __init__(self, sock: socket.socket, index: int) -> None:
        self.sock = sock
        self.index = index  # 0 for the server's first connection, and so on
        self.requests: list[RecordedRequest] = []
        #: Set once the server saw the client close (EOF or reset).
        self.closed_by_peer = threading.Event()
        self._buf = b""

    def _recv(self) -> bytes | None:
        """Bytes received; ``b""`` once the client closed or reset; ``None`` after a timeout."""
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        except (OSError, ValueError):
            data = b""
        if not data:
            self.closed_by_peer.set()
        return data

    def recv_request(self) -> RecordedRequest | None:
        """The next request, or ``None`` when the client closed (or nothing came in time)."""
        while b"\r\n\r\n" not in self._buf:
            data = self._recv()
            if not data:  # closed, or nothing within IO_TIMEOUT
                return None
            self._buf += data
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
        pairs = [(h[0], h[1]) for h in headers if len(h) == 2]
        length = 0
        for k, v in pairs:
            if k.lower() == "content-length":
                length = int(v)
        while len(self._buf) < length:
            data = self._recv()
            if not data:
                return None
            self._buf += data
        body, self._buf = self._buf[:length], self._buf[length:]
        req = RecordedRequest(method, target, pairs, body)
        self.requests.append(req)
        return req

    def send(self, data: bytes) -> bool:
        """Send ``data``; ``False`` when the client is gone."""
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ValueError):
            return False

    def wait_closed(self, timeout: float = IO_TIMEOUT) -> bool:
        """Read and drop bytes until the client closes; whether it did within ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            while not self.closed_by_peer.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.sock.settimeout(min(remaining, 0.1))
                self._recv()
            self.sock.settimeout(IO_TIMEOUT)
        except (OSError, ValueError):
            pass
        return self.closed_by_peer.is_set()

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


Script = Callable[[ServerConn], None]


def serve_forever(conn: ServerConn) -> None:
    """The default script: answer every request with ``ok`` until the client closes."""
    while conn.recv_request() is not None:
        conn.send(response(b"ok"))


@dataclass
class ScriptedServer:
    """A TCP (or TLS) server on 127.0.0.1 running ``script`` once per accepted connection.

    Attributes:
        conns: every accepted connection, in order.
        stop_event: set when the server stops; scripts that wait forever should wait on it.
    """

    script: Script = serve_forever
    ssl_context: ssl.SSLContext | None = None
    accept: bool = True  # False: listen, but never accept (connections stay in the backlog)
    conns: list[ServerConn] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self.conns)

    def __enter__(self) -> ScriptedServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self.stop_event.is_set():
            if not self.accept:
                time.sleep(0.02)
                continue
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            sock.settimeout(IO_TIMEOUT)
            with self._lock:
                conn = ServerConn(sock, len(self.conns))
                self.conns.append(conn)
                thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _run(self, conn: ServerConn) -> None:
        try:
            if self.ssl_context is not None:
                try:
                    conn.sock = self.ssl_context.wrap_socket(conn.sock, server_side=True)
                except (OSError, ValueError):
                    conn.closed_by_peer.set()
                    return
            self.script(conn)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stop_event.set()
        self._acceptor.join(IO_TIMEOUT)
        with self._lock:
            conns = list(self.conns)
            threads = list(self._threads)
        for conn in conns:  # wake scripts blocked in recv()
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
        for thread in threads:
            thread.join(IO_TIMEOUT)
        for conn in conns:
            conn.close()
        self._listener.close()


@dataclass(frozen=True)
class TLSFiles:
    """A throwaway CA and a server certificate signed by it (see ``conftest.tls_files``)."""

    ca: Path  # the CA certificate clients trust (``verify=str(ca)``)
    cert: Path  # the server certificate (SAN: IP 127.0.0.1, DNS localhost)
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def wait_until(predicate: Callable[[], bool], timeout: float = IO_TIMEOUT) -> bool:
    """Poll ``predicate`` (from a thread, or sync code) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()
