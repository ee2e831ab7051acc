"""A tiny threaded HTTP/1.1 server on 127.0.0.1, plain or TLS, whose answers a test writes.

For the security tests, which need servers that do one odd thing each: echo the API key in an
error, redirect elsewhere, act as a forward proxy, present a self-signed certificate, or say
nothing at all.  ``handler(request, stop)`` returns the raw response bytes, or ``None`` to
close without answering (after waiting on ``stop`` as long as it likes).  Every socket
operation has a timeout and ``close`` joins every thread, bounded.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

__all__ = ["MiniServer", "Received", "http_response"]

_IO_TIMEOUT = 5.0
_JOIN_TIMEOUT = 2.0


@dataclass(frozen=True)
class Received:
    """A request as read: the request line's target, headers (names lower-cased), body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Received, threading.Event], "bytes | None"]


def http_response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None, reason: str = "X"
) -> bytes:
    """A whole response with a Content-Length (``reason`` is the status line's phrase)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class MiniServer:
    """Serve ``handler`` on 127.0.0.1 (TLS when ``ssl_context`` is given) until ``close``.

    Attributes:
        connections: TCP connections accepted.
        requests: every request read (after a successful TLS handshake, for TLS).
    """

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._ssl = ssl_context
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        self.requests: list[Received] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.bind(("127.0.0.1", 0))
            self._listener.listen(16)
            self._listener.settimeout(0.5)
        except BaseException:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def origin(self) -> str:
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(_IO_TIMEOUT)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self._lock:
                if self._stop.is_set():
                    sock.close()
                    return
                self.connections += 1
                self._socks.append(sock)
                self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        conn = sock
        try:
            if self._ssl is not None:
                try:
                    conn = self._ssl.wrap_socket(sock, server_side=True)
                except (OSError, ValueError):
                    return  # the client refused our certificate (or went away)
                with self._lock:
                    self._socks.append(conn)
            buf = b""
            while not self._stop.is_set():
                req, buf = _read_request(conn, buf)
                if req is None:
                    return
                with self._lock:
                    self.requests.append(req)
                answer = self._handler(req, self._stop)
                if answer is None:
                    return
                conn.sendall(answer)
                if "connection: close" in answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower():
                    return
        except (OSError, ValueError):
            pass
        finally:
            conn.close()
            sock.close()

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._acceptor.join(_JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
        for thread in threads:
            thread.join(_JOIN_TIMEOUT)

    def __enter__(self) -> MiniServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _read_request(sock: socket.socket, buf: bytes) -> tuple[Received | None, bytes]:
    while b"\r\n\r\n" not in buf:
        if len(buf) > 65536:
            return None, b""
        data = sock.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None, b""
        rest += data
    return Received(method, target, headers, rest[:length]), rest[length:]
