"""Helpers for the conformance tests: run a vector through ``SSEDecoder``, serve it on loopback.

``VectorServer`` is a plain-socket thread on 127.0.0.1 that answers one request per
connection with the writes a ``respond(target)`` function returns, each its own ``sendall``
(``TCP_NODELAY``), then closes.  Every socket has a timeout; ``stop()`` joins with a bound.

``PASSED`` counts vectors that passed, per mode, for the summary ``conftest.py`` prints.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from _vectors import Ev, Vector

from r9s._core.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "PASSED",
    "SOCKET_TIMEOUT",
    "Outcome",
    "VectorServer",
    "check",
    "chunked_writes",
    "decode",
    "observe",
]

SOCKET_TIMEOUT = 5.0

#: mode -> names of the vectors that passed in it.
PASSED: collections.defaultdict[str, set[str]] = collections.defaultdict(set)


def observe(events: Iterable[ServerSentEvent | str]) -> list[Ev]:
    """``(type, data, lastEventId)`` per event, with the spec's ``""`` for no id."""
    out: list[Ev] = []
    for e in events:
        if isinstance(e, str):  # feed_raw's plain event
            out.append(("message", e, ""))
        else:
            out.append((e.event, e.data, e.id or ""))
    return out


class Outcome:
    """What a decoder made of a whole input: events from ``feed``, from ``end``, the retry."""

    def __init__(self) -> None:
        self.fed: list[ServerSentEvent | str] = []
        self.ended: list[ServerSentEvent] = []

    @property
    def retry(self) -> int | None:
        value = None
        for e in [*self.fed, *self.ended]:
            if isinstance(e, ServerSentEvent) and e.retry is not None:
                value = e.retry
        return value


def decode(pieces: Iterable[bytes], *, errors: str = "replace", raw: bool = False) -> Outcome:
    """Feed ``pieces`` to a fresh decoder (``feed`` or ``feed_raw``), then ``end()``."""
    dec = SSEDecoder(errors=errors)
    out = Outcome()
    feed = dec.feed_raw if raw else dec.feed
    for piece in pieces:
        out.fed += feed(piece)
    out.ended = dec.end()
    return out


def check(vector: Vector, outcome: Outcome) -> None:
    """Assert ``outcome`` is the vector's: spec events from feed, r9s's pending from end."""
    assert observe(outcome.fed) == list(vector.events), vector.source
    assert observe(outcome.ended) == list(vector.pending), vector.source
    assert outcome.retry == vector.retry, vector.source


def chunked_writes(body: bytes, size: int) -> list[bytes]:
    """``body`` as chunked transfer coding, one chunk (one write) per ``size`` bytes."""
    writes = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    writes.append(b"0\r\n\r\n")
    return writes


Responder = Callable[[str], Sequence[bytes]]


class VectorServer:
    """Answer each connection's one request with ``respond(target)``'s writes, then close."""

    host = "127.0.0.1"

    def __init__(self, respond: Responder) -> None:
        self._respond = respond
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        #: Exceptions raised while serving (a failing test shows them).
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    self._serve(conn)
                except OSError as exc:
                    self.errors.append(exc)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(SOCKET_TIMEOUT)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            if not data or len(head) > 65536:
                return
            head += data
        target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii")
        for write in self._respond(target):
            conn.sendall(write)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(SOCKET_TIMEOUT + 1)
        self._listener.close()
        assert not self._thread.is_alive(), "the vector server did not stop"

    def __enter__(self) -> VectorServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
