"""A loopback HTTP/1.1 server for the benchmarks, fast enough never to be what is measured.

    python benchmarks/bench_server.py [--port 0] [--warm 20000,1000]

Prints ``listening on http://127.0.0.1:PORT`` and serves until killed.  One thread per
connection, keep-alive, every answer precomputed (and cached per size), so serving a stream
is one ``sendall`` of ready bytes:

- ``POST /v1/chat/completions`` with ``"stream": true``: ``max_tokens`` chat chunks as SSE,
  one HTTP chunk per event, then ``data: [DONE]`` and the chunked terminator;
  without ``stream``: a small chat completion with ``Content-Length``;
- ``POST /v1/responses`` with ``"stream": true``: ``max_output_tokens`` text deltas as
  ``event:``/``data:`` SSE events, ending with ``response.completed``;
- ``POST /v1/messages`` with ``"stream": true``: an Anthropic Messages stream of
  ``max_tokens`` ``content_block_delta`` events, ending with ``message_stop``;
- ``POST /v1/audio/speech`` whose ``input`` is ``"bench N bytes"``: ``N`` bytes of
  ``audio/mpeg`` with ``Content-Length``, sent as one precomputed 1 MiB block over and over;
- ``POST /v1/audio/transcriptions``: the body (any size, ``Content-Length``) is read into one
  reused buffer and dropped; the answer is ``{"text": "received N bytes"}`` (N: the body's
  length, with a note if it did not end with a multipart closing boundary).

The request body is not JSON-decoded: ``stream`` and the size are found with a regular
expression, so a request costs the server a few microseconds.  Loopback only.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "contenders"))

import _payloads

_STREAM = re.compile(rb'"stream"\s*:\s*true')
_SPEECH_SIZE = re.compile(rb'"input"\s*:\s*"bench (\d+) bytes"')
_SIZE = re.compile(rb'"max_(?:output_)?tokens"\s*:\s*(\d+)')
_MAX_SIZE = 2_000_000
_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024
_MAX_UPLOAD = 1 << 40
_MAX_SPEECH = 1 << 40
_STREAMS = (b"/v1/chat/completions", b"/v1/responses", b"/v1/messages")
_SPEECH = b"/v1/audio/speech"
_UPLOAD = b"/v1/audio/transcriptions"
#: The read buffer of an upload (reused; one per connection).
_UPLOAD_BUF = 1024 * 1024
_BLOCK = memoryview(_payloads.binary_block())

_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/event-stream; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Cache-Control: no-cache\r\n"
    b"x-request-id: req_bench\r\n"
    b"\r\n"
)


def _plain(status: bytes, body: bytes, ctype: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\n"
        b"Content-Length: %d\r\nx-request-id: req_bench\r\n\r\n" % len(body)
    ) + body


_COMPLETION = _plain(b"200 OK", _payloads.chat_completion())
_NOT_FOUND = _plain(b"404 Not Found", b'{"error":{"message":"not found","type":"invalid"}}')
_BAD = _plain(b"400 Bad Request", b'{"error":{"message":"bad request","type":"invalid"}}')

_cache: dict[tuple[bytes, int], bytes] = {}
_cache_lock = threading.Lock()


def stream_answer(path: bytes, n: int) -> bytes:
    """The whole precomputed answer (head and chunked body) for a stream of size ``n``."""
    key = (path, n)
    answer = _cache.get(key)
    if answer is None:
        with _cache_lock:
            answer = _cache.get(key)
            if answer is None:
                if path == b"/v1/chat/completions":
                    frames = _payloads.chat_frames(n)
                elif path == b"/v1/messages":
                    frames = _payloads.messages_frames(n)
                else:
                    frames = _payloads.responses_frames(n)
                answer = _cache[key] = _SSE_HEAD + _payloads.http_chunked(frames)
    return answer


def _answer(path: bytes, body: bytes) -> bytes:
    if path not in _STREAMS:
        return _NOT_FOUND
    if _STREAM.search(body) is None:
        return _COMPLETION if path == b"/v1/chat/completions" else _BAD
    m = _SIZE.search(body)
    n = min(int(m.group(1)), _MAX_SIZE) if m else 16
    return stream_answer(path, n)


def _send_speech(conn: socket.socket, body: bytes) -> None:
    """``N`` bytes of audio: the head, then the precomputed block, ``sendall`` after ``sendall``."""
    m = _SPEECH_SIZE.search(body)
    if m is None or int(m.group(1)) > _MAX_SPEECH:
        conn.sendall(_BAD)
        return
    n = int(m.group(1))
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: %d\r\n"
        b"x-request-id: req_bench\r\n\r\n" % n
    )
    block = _BLOCK
    size = len(block)
    sendall = conn.sendall
    for _ in range(n // size):
        sendall(block)
    if n % size:
        sendall(block[: n % size])


def _receive_upload(conn: socket.socket, buf: bytes, length: int) -> tuple[bytes, bytes] | None:
    """Read and drop a ``length``-byte body (``buf``: what came with the head).

    Returns ``(answer, unread bytes after the body)``, or None if the client went away.
    """
    take = min(len(buf), length)
    tail = buf[:take][-16:]
    rest = buf[take:]
    left = length - take
    scratch = bytearray(_UPLOAD_BUF)
    view = memoryview(scratch)
    recv_into = conn.recv_into
    while left > 0:
        n = recv_into(view, min(left, _UPLOAD_BUF))
        if not n:
            return None
        left -= n
        tail = bytes(view[max(0, n - 16) : n]) if n >= 16 else (tail + bytes(view[:n]))[-16:]
    ok = tail.endswith(b"--\r\n")
    text = _payloads.transcription_text(length, ok)
    return _plain(b"200 OK", b'{"text":"%s"}' % text.encode()), rest


def _serve(conn: socket.socket) -> None:
    buf = b""
    try:
        while True:
            end = buf.find(b"\r\n\r\n")
            while end < 0:
                if len(buf) > _MAX_HEAD:
                    return
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                end = buf.find(b"\r\n\r\n")
            head = buf[:end]
            buf = buf[end + 4 :]
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3:
                conn.sendall(_BAD)
                return
            path = parts[1].split(b"?", 1)[0]
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"transfer-encoding":
                    conn.sendall(_BAD)  # no client here sends a chunked request body
                    return
            if path == _UPLOAD and length <= _MAX_UPLOAD:
                got = _receive_upload(conn, buf, length)
                if got is None:
                    return
                answer, buf = got
                conn.sendall(answer)
                if close:
                    return
                continue
            if length > _MAX_BODY:
                conn.sendall(_BAD)
                return
            while len(buf) < length:
                data = conn.recv(max(65536, length - len(buf)))
                if not data:
                    return
                buf += data
            body = buf[:length]
            buf = buf[length:]
            if path == _SPEECH:
                _send_speech(conn, body)
            else:
                conn.sendall(_answer(path, body))
            if close:
                return
    except OSError:
        pass
    finally:
        conn.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--warm", default="", help="stream sizes to precompute, comma-separated")
    args = p.parse_args()
    for size in filter(None, args.warm.split(",")):
        stream_answer(b"/v1/chat/completions", int(size))
        stream_answer(b"/v1/responses", int(size))
        stream_answer(b"/v1/messages", int(size))
    srv = socket.create_server(("127.0.0.1", args.port), backlog=512)
    print(f"listening on http://127.0.0.1:{srv.getsockname()[1]}", flush=True)
    try:
        while True:
            conn, _ = srv.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
