"""Minimal HTTP/1.1 on a blocking socket: read requests, frame responses.

Why: the test server must run on the standard library alone, yet behave like a real
keep-alive HTTP/1.1 server (pipelining, chunked bodies, ``Expect: 100-continue``) and be able
to break the protocol on purpose, which ``http.server`` cannot do.  Everything here is
bounded: header block and body sizes are capped, and every socket read is subject to the
socket's timeout, so a silent or hostile client can never pin a thread forever.
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final, Protocol

__all__ = [
    "MAX_BODY",
    "MAX_STREAMED_BODY",
    "RECORD_LIMIT",
    "BodySink",
    "HttpError",
    "Request",
    "RequestReader",
    "SinkChooser",
    "StreamOut",
    "accepts_gzip",
    "head_bytes",
    "status_line",
]

MAX_HEAD: Final = 64 * 1024
MAX_BODY: Final = 64 * 1024 * 1024
#: Largest body a sink takes (uploads are streamed: hashed, not kept).
MAX_STREAMED_BODY: Final = 1024 * 1024 * 1024
#: Bytes of a streamed body a ``Request`` keeps (for ``RecordedRequest.body``).
RECORD_LIMIT: Final = 1024 * 1024
#: Events are joined into writes of about this size, unless each must go out alone.
BATCH: Final = 16 * 1024
_RECV: Final = 64 * 1024
#: Largest read of a body.
_BODY_RECV: Final = 256 * 1024


class HttpError(Exception):
    """A request that cannot be parsed: answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodySink(Protocol):
    """Takes a request body piece by piece instead of the reader keeping it."""

    def feed(self, data: bytes) -> None: ...


#: Picks a sink for a request from its head, or None to read the body into memory.
SinkChooser = Callable[[str, str, dict[str, str]], BodySink | None]


@dataclass(slots=True)
class Request:
    """One parsed request."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    #: The body; when a sink took it, only its first ``RECORD_LIMIT`` bytes.
    body: bytes
    #: The body's size in bytes (``len(body)`` unless a sink took a larger one).
    size: int = 0
    #: The sink that took the body, or None.
    sink: BodySink | None = None

    @property
    def keep_alive(self) -> bool:
        """Whether the client lets the connection live on after this exchange.

        Returns:
            False for ``Connection: close`` and for HTTP/1.0 clients.
        """
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        return self.version == "HTTP/1.1" and "close" not in tokens


class RequestReader:
    """Reads successive requests from one connection (keeps bytes read past a request)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def _fill(self) -> bool:
        data = self._sock.recv(_RECV)
        if not data:
            return False
        self._buf += data
        return True

    def read(self, choose_sink: SinkChooser | None = None) -> Request | None:
        """Read the next request.

        Args:
            choose_sink: called with the method, target and headers once the head is read;
                a sink it returns is fed the body piece by piece (up to ``MAX_STREAMED_BODY``
                bytes), of which the request keeps the first ``RECORD_LIMIT`` bytes.  Other
                bodies are read whole (up to ``MAX_BODY`` bytes).

        Returns:
            The request, or None when the client closed the connection between requests.
            Raises HttpError for a malformed request, OSError (or TimeoutError) from the socket.
        """
        # Leading empty lines before a request are allowed (RFC 9112 section 2.2).
        while self._buf[:2] == b"\r\n":
            del self._buf[:2]
        start = 0
        end = self._buf.find(b"\r\n\r\n")
        # Each pass adds at least one byte; MAX_HEAD bounds the loop.
        while end < 0:
            if len(self._buf) > MAX_HEAD:
                raise HttpError(431, "request header block too large")
            start = max(0, len(self._buf) - 3)
            if not self._fill():
                if self._buf.strip(b"\r\n"):
                    raise HttpError(400, "connection closed inside the request head")
                return None
            while self._buf[:2] == b"\r\n":
                del self._buf[:2]
                start = 0
            end = self._buf.find(b"\r\n\r\n", start)
        head = bytes(self._buf[:end])
        del self._buf[: end + 4]
        if len(head) > MAX_HEAD:
            raise HttpError(431, "request header block too large")
        method, target, version, headers = _parse_head(head)
        sink = None if choose_sink is None else choose_sink(method, target, headers)
        limit = MAX_BODY if sink is None else MAX_STREAMED_BODY
        length = _framing(headers, limit)
        expects_body = length != 0
        if headers.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
            if expects_body and not self._buf:
                self._sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        pieces = self._pieces(length, limit)
        if sink is None:
            body = b"".join(pieces)
            return Request(method, target, version, headers, body, len(body))
        kept = bytearray()
        size = 0
        for piece in pieces:
            size += len(piece)
            if len(kept) < RECORD_LIMIT:
                kept += piece[: RECORD_LIMIT - len(kept)]
            sink.feed(piece)
        return Request(method, target, version, headers, bytes(kept), size, sink)

    def _pieces(self, length: int | None, limit: int) -> Iterator[bytes]:
        """The body's pieces as they arrive: ``length`` bytes, or chunked when None."""
        if length is None:
            yield from self._chunked(limit)
            return
        left = length
        if self._buf and left:
            take = min(left, len(self._buf))
            yield bytes(self._buf[:take])
            del self._buf[:take]
            left -= take
        # Each pass receives at least one byte; ``length`` (<= limit) bounds the loop.
        while left:
            data = self._sock.recv(min(left, _BODY_RECV))
            if not data:
                raise HttpError(400, "connection closed inside the request body")
            left -= len(data)
            yield data

    def _take(self, size: int) -> bytes:
        # Each pass adds at least one byte; size (<= MAX_BODY) bounds the loop.
        while len(self._buf) < size:
            if not self._fill():
                raise HttpError(400, "connection closed inside the request body")
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def _line(self) -> bytes:
        end = self._buf.find(b"\r\n")
        while end < 0:
            if len(self._buf) > 4096:
                raise HttpError(400, "chunk header line too long")
            if not self._fill():
                raise HttpError(400, "connection closed inside a chunked body")
            end = self._buf.find(b"\r\n")
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line

    def _chunked(self, limit: int) -> Iterator[bytes]:
        total = 0
        # Every chunk is at least one byte (or the last); ``limit`` bounds the loop.
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpError(400, "bad chunk size") from None
            if size == 0:
                break
            total += size
            if size < 0 or total > limit:
                raise HttpError(413, "request body too large")
            # A chunk is taken in pieces of at most _BODY_RECV bytes, never whole.
            while size:
                if not self._buf and not self._fill():
                    raise HttpError(400, "connection closed inside the request body")
                take = min(size, len(self._buf))
                yield bytes(self._buf[:take])
                del self._buf[:take]
                size -= take
            if self._take(2) != b"\r\n":
                raise HttpError(400, "chunk not followed by CRLF")
        # Trailer fields, up to the empty line; bounded like the head.
        trailer = 0
        while self._line():
            trailer += 1
            if trailer > 100:
                raise HttpError(431, "too many trailer fields")


def _framing(headers: dict[str, str], limit: int) -> int | None:
    """The body's length from the head, or None for a chunked body (checked against limit)."""
    encoding = headers.get("transfer-encoding")
    length = headers.get("content-length")
    if encoding is not None:
        if length is not None:
            raise HttpError(400, "both Transfer-Encoding and Content-Length")
        if encoding.strip().lower() != "chunked":
            raise HttpError(501, f"unsupported Transfer-Encoding {encoding!r}")
        return None
    if length is None:
        return 0
    if not length.isdigit():
        raise HttpError(400, f"bad Content-Length {length!r}")
    size = int(length)
    if size > limit:
        raise HttpError(413, "request body too large")
    return size


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise HttpError(400, "undecodable request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise HttpError(400, "bad request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"unsupported protocol version {version!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise HttpError(400, "bad header line")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, target, version, headers


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip.

    Args:
        accept_encoding: the header value (may be empty).

    Returns:
        True when ``gzip`` (or ``*``) is listed without ``q=0``.
    """
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        return True
    return False


def status_line(status: int) -> bytes:
    """The response status line.

    Args:
        status: the status code.

    Returns:
        e.g. ``b"HTTP/1.1 503 Service Unavailable\\r\\n"``.
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Overloaded" if status == 529 else "Unknown"
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("ascii")


def head_bytes(status: int, headers: list[tuple[str, str]]) -> bytes:
    """Serialise a status line and header block.

    Args:
        status: the status code.
        headers: (name, value) pairs, in order.

    Returns:
        The bytes up to and including the empty line.
    """
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return status_line(status) + lines.encode("latin-1", "replace") + b"\r\n"


class StreamOut:
    """Writes a streamed body: batching, optional incremental gzip, chunked framing.

    The response head goes out with the first flush, so a short stream is one ``send``.
    """

    def __init__(self, sock: socket.socket, head: bytes, *, chunked: bool, gzip: bool) -> None:
        self._sock = sock
        self._head = head
        self._chunked = chunked
        self._zip = zlib.compressobj(wbits=31) if gzip else None
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes, *, batch: bool = True) -> None:
        """Queue bytes; they are sent once about ``BATCH`` bytes are queued.

        Args:
            data: the bytes (one or more whole events).
            batch: False sends at once (with whatever was queued before).
        """
        self._pending.append(data)
        self._size += len(data)
        if not batch or self._size >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Send everything queued (and the head, if not sent yet) as one framed chunk."""
        payload = b""
        if self._pending:
            payload = b"".join(self._pending)
            self._pending.clear()
            self._size = 0
            if self._zip is not None:
                payload = self._zip.compress(payload) + self._zip.flush(zlib.Z_SYNC_FLUSH)
            if self._chunked and payload:
                payload = b"%x\r\n%b\r\n" % (len(payload), payload)
        if self._head:
            payload = self._head + payload
            self._head = b""
        if payload:
            self._sock.sendall(payload)

    def finish(self) -> None:
        """Send what is queued, the end of the gzip member and the chunked terminator."""
        self.flush()
        tail = b""
        if self._zip is not None:
            rest = self._zip.flush(zlib.Z_FINISH)
            tail = b"%x\r\n%b\r\n" % (len(rest), rest) if self._chunked and rest else rest
        if self._chunked:
            tail += b"0\r\n\r\n"
        if tail:
            self._sock.sendall(tail)
