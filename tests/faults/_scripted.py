"""Scripted HTTP servers on 127.0.0.1 for the fault matrix: plain sockets and threads.

Why not ``FakeServer``: a fault matrix needs byte-level control (reset the connection after
exactly N bytes of the answer, drip it one byte at a time, send a status line no server would)
and a peer that is independent of the event loop under test.  So: blocking sockets, one thread
per connection, and every wait bounded.

A ``ScriptedServer`` reads each request and hands it to its handler, which writes whatever it
likes through the ``Peer`` and says whether the connection may carry another request.  The
answers the handlers build on (``json_answer``, ``sse_answer``) are an OpenAI-shaped chat
completion whose text is ``reply_text(request)``: "Hello! You said: <last user message>", the
same text ``r9s.testing.FakeServer`` answers, so one expected string serves every server.

``BlackHole`` is a listening socket that never accepts, its backlog filled, so that a client's
connect hangs until its own timeout.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "IO_TIMEOUT",
    "BlackHole",
    "Peer",
    "Req",
    "ScriptedServer",
    "chunk",
    "json_answer",
    "normal",
    "reply_pieces",
    "reply_text",
    "sse_answer",
]

#: Upper bound of any single blocking socket operation of the server.
IO_TIMEOUT = 5.0
#: Largest request head and body the server reads (our client sends a few hundred bytes).
_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024
#: How long ``close`` waits for the server's threads, each.
_JOIN_TIMEOUT = 2.0


@dataclass(frozen=True)
class Req:
    """One request as the server read it (header names in lower case)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def stream(self) -> bool:
        doc = self.json
        return isinstance(doc, dict) and doc.get("stream") is True


class Peer:
    """The server's end of one connection; the handler's only tool."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop
        self._buf = b""
        self.closed = False

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except (OSError, ValueError):  # timeout, reset, or closed by ``ScriptedServer.close``
            return b""

    def read_request(self) -> Req | None:
        """The next request, or ``None`` once the client closed (or sent nothing in time)."""
        while b"\r\n\r\n" not in self._buf:
            if len(self._buf) > _MAX_HEAD:
                return None
            data = self._recv()
            if not data:
                return None
            self._buf += data
        head, _, rest = self._buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0") or 0), _MAX_BODY)
        while len(rest) < length:
            data = self._recv()
            if not data:
                return None
            rest += data
        self._buf = rest[length:]
        return Req(method, target, headers, rest[:length])

    def send(self, data: bytes) -> bool:
        """Send all of ``data``; ``False`` when the client is gone."""
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ValueError):
            return False

    def drip(self, data: bytes, gap: float = 0.0005) -> bool:
        """Send ``data`` one byte per TCP segment, ``gap`` seconds apart."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            if self.stop.is_set() or not self.send(data[i : i + 1]):
                return False
            time.sleep(gap)
        return True

    def hold(self, seconds: float) -> None:
        """Stay silent for ``seconds`` (less if the server stops)."""
        self.stop.wait(seconds)

    def reset(self, settle: float = 0.05) -> None:
        """Close with a TCP RST, ``settle`` seconds after the last send (so it was read)."""
        if self.closed:
            return
        self.stop.wait(settle)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


#: A handler answers one request; it returns whether the connection may carry another one.
Handler = Callable[[Peer, Req], bool]


class ScriptedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose every answer is written by ``handler``.

    Attributes:
        connections: connections accepted so far.
        requests: every request read so far, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peers: list[Peer] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        self.requests: list[Req] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.bind(("127.0.0.1", 0))
            self._listener.listen(64)
            self._listener.settimeout(0.5)  # close() wakes accept() sooner, by shutdown
        except BaseException:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)
            peer = Peer(sock, self._stop)
            thread = threading.Thread(target=self._serve, args=(peer,), daemon=True)
            with self._lock:
                if self._stop.is_set():
                    peer.close()
                    return
                self.connections += 1
                self._peers.append(peer)
                self._threads.append(thread)
            thread.start()

    def _serve(self, peer: Peer) -> None:
        try:
            while not self._stop.is_set() and not peer.closed:
                req = peer.read_request()
                if req is None:
                    break
                with self._lock:
                    self.requests.append(req)
                if not self._handler(peer, req):
                    break
        finally:
            peer.close()

    def close(self) -> None:
        """Stop: wake every handler, shut every connection, join every thread (bounded)."""
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        except OSError:
            pass
        self._acceptor.join(_JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            peers, threads = list(self._peers), list(self._threads)
        for peer in peers:
            if not peer.closed:
                try:
                    peer.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in threads:
            thread.join(_JOIN_TIMEOUT)

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class BlackHole:
    """A port that never answers: listening with its backlog full, never accepting.

    Linux drops the SYN of a connection that would overflow the accept queue, so a client's
    connect neither succeeds nor fails: it waits for its own connect timeout.
    """

    def __init__(self, fillers: int = 4) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._fillers: list[socket.socket] = []
        try:
            self._listener.bind(("127.0.0.1", 0))
            self._listener.listen(0)
            self.port: int = self._listener.getsockname()[1]
            for _ in range(fillers):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._fillers.append(filler)
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", self.port))
            time.sleep(0.05)  # let the handshakes that fit complete
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._listener.close()

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- canonical answers ------------------------------------------------------------------------


def reply_text(req: Req) -> str:
    """What the server says: ``FakeServer``'s words, "Hello! You said: <last user message>"."""
    doc = req.json
    said = ""
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list) and doc["messages"]:
        last = doc["messages"][-1]
        if isinstance(last, dict) and isinstance(last.get("content"), str):
            said = last["content"]
    return f"Hello! You said: {said}"


def reply_pieces(text: str) -> list[str]:
    """``text`` cut into the pieces the stream delivers (about three words each)."""
    words = text.split(" ")
    return [
        " ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "")
        for i in range(0, len(words), 3)
    ]


def _completion(text: str) -> bytes:
    doc = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _chunk_doc(delta: dict[str, Any], finish: str | None = None) -> bytes:
    doc = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def json_answer(req: Req, *, extra: str = "") -> tuple[bytes, bytes]:
    """``(head, body)`` of a normal non-streamed answer with a Content-Length.

    Args:
        extra: header lines (each ending in CRLF) added to the head.
    """
    body = _completion(reply_text(req))
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1"), body


def sse_events(req: Req) -> list[bytes]:
    """The events of a normal streamed answer; the last one is ``data: [DONE]``."""
    events = [b"data: " + _chunk_doc({"role": "assistant", "content": ""}) + b"\n\n"]
    for piece in reply_pieces(reply_text(req)):
        events.append(b"data: " + _chunk_doc({"content": piece}) + b"\n\n")
    events.append(b"data: " + _chunk_doc({}, "stop") + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse_answer(req: Req, *, extra: str = "") -> tuple[bytes, list[bytes]]:
    """``(head, chunks)`` of a normal streamed answer: one chunk per event, then the last chunk."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        f"{extra}"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    return head.encode("latin-1"), [chunk(e) for e in sse_events(req)] + [b"0\r\n\r\n"]


def normal(peer: Peer, req: Req) -> bool:
    """Answer like a healthy server (keep-alive)."""
    if req.stream:
        head, chunks = sse_answer(req)
        return peer.send(head + b"".join(chunks))
    head, body = json_answer(req)
    return peer.send(head + body)
