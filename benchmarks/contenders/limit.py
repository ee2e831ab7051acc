"""The limit: what reading the same answers costs with no client library at all.

Standard library only.  Streams: a blocking socket sends the request bytes, reads with
``recv(65536)``, undoes the chunked transfer coding with ``bytes.find`` and slicing, splits
SSE frames on ``b"\\n\\n"``, ``json.loads`` each ``data:`` payload and reads the field the
caller wants.  Parse-only: the same splitting and ``json.loads`` over the in-memory 64 KiB
pieces.  Requests: one keep-alive socket (``sync``), or the clients' concurrency over non-blocking
keep-alive sockets and one ``selectors`` loop (``select``), reading ``Content-Length`` bodies.

Binary bodies: the speech download reads the ``Content-Length`` body with ``recv_into`` a
preallocated 1 MiB buffer and counts (``sync``), or also writes each read to a file
(``sync-file``), or has the kernel drop the bytes with ``MSG_TRUNC`` (``discard``: no copy
at all, so this is what the server and loopback can push, not a reader); the upload sends the multipart head, then the file read with ``readinto`` a
preallocated 256 KiB buffer, one ``sendall`` per piece, then the closing boundary.

No validation, no error handling, no CR or CRLF line ends, no gzip: a floor, not a client.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import _common
import _payloads
from _common import MESSAGES, MODEL, PROMPT, Result, result

loads = json.loads


def _request(url: str, path: str, body: dict[str, Any]) -> tuple[tuple[str, int], bytes]:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {_common.API_KEY}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    return (host, port), head + data


def _stream(url: str, path: str, body: dict[str, Any], on_payload: Any) -> None:
    """Send one streamed request; call ``on_payload(bytes)`` for each ``data:`` payload."""
    addr, req = _request(url, path, body)
    with socket.create_connection(addr, timeout=_common.BUDGET_S) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(req)
        recv = sock.recv
        buf = b""
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += recv(65536)
        raw = buf[end + 4 :]  # chunked body bytes not yet de-chunked
        sse = b""  # de-chunked bytes not yet split into frames
        while True:
            pos = 0
            parts = []
            n = len(raw)
            finished = False
            while True:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(raw[pos:eol], 16)
                if size == 0:
                    finished = True
                    break
                start = eol + 2
                if start + size + 2 > n:
                    break
                parts.append(raw[start : start + size])
                pos = start + size + 2
            raw = raw[pos:]
            if parts:
                sse += b"".join(parts)
                frames = sse.split(b"\n\n")
                sse = frames.pop()
                for frame in frames:
                    i = frame.find(b"data: ")
                    if i >= 0:
                        on_payload(frame[i + 6 :])
            if finished:
                return
            data = recv(65536)
            if not data:
                return
            raw += data


def chat_sync(url: str, size: float) -> Result:
    count = chars = 0

    def on_payload(payload: bytes) -> None:
        nonlocal count, chars
        if payload == b"[DONE]":
            return
        content = loads(payload)["choices"][0]["delta"].get("content")
        count += 1
        if content:
            chars += len(content)

    body = {"model": MODEL, "messages": MESSAGES, "stream": True, "max_tokens": int(size)}
    t0 = perf_counter()
    _stream(url, "/v1/chat/completions", body, on_payload)
    return result(perf_counter() - t0, count, chars)


def responses_sync(url: str, size: float) -> Result:
    count = chars = 0

    def on_payload(payload: bytes) -> None:
        nonlocal count, chars
        ev = loads(payload)
        if ev["type"] == "response.output_text.delta":
            count += 1
            chars += len(ev["delta"])

    body = {"model": MODEL, "input": PROMPT, "stream": True, "max_output_tokens": int(size)}
    t0 = perf_counter()
    _stream(url, "/v1/responses", body, on_payload)
    return result(perf_counter() - t0, count, chars)


def messages_sync(url: str, size: float) -> Result:
    count = chars = 0

    def on_payload(payload: bytes) -> None:
        nonlocal count, chars
        ev = loads(payload)
        if ev["type"] == "content_block_delta":
            count += 1
            chars += len(ev["delta"]["text"])

    body = {
        "model": _payloads.CLAUDE_MODEL,
        "messages": MESSAGES,
        "max_tokens": int(size),
        "stream": True,
    }
    t0 = perf_counter()
    _stream(url, "/v1/messages", body, on_payload)
    return result(perf_counter() - t0, count, chars)


def _speech(to_file: bool, discard: bool = False) -> Any:
    def run(url: str, size: float) -> Result:
        nbytes = _payloads.megabytes_to_bytes(size)
        body = {"model": "tts-1", "input": _payloads.speech_input(nbytes), "voice": "alloy"}
        addr, req = _request(url, "/v1/audio/speech", body)
        buf = bytearray(1024 * 1024)
        view = memoryview(buf)
        out = open("speech-limit.mp3", "wb") if to_file else None
        got = 0
        # Connected before the clock starts: the clients' connections are open too (warm-up).
        with socket.create_connection(addr, timeout=_common.BUDGET_S) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            probe = _common.IOProbe()
            sock.sendall(req)
            head = b""
            while (end := head.find(b"\r\n\r\n")) < 0:
                head += sock.recv(65536)
            i = head.find(b"Content-Length:", 0, end)
            length = int(head[i + 15 : head.find(b"\r\n", i)])
            first = head[end + 4 :]
            got = len(first)
            if out is not None:
                out.write(first)
            recv_into = sock.recv_into
            write = out.write if out is not None else None
            flags = socket.MSG_TRUNC if discard else 0
            while got < length:
                n = recv_into(view, 0, flags)
                if not n:
                    break
                got += n
                if write is not None:
                    write(view[:n])
        if out is None:
            return probe.done(got, nbytes)
        out.close()
        return _common.file_result(probe.done(got, nbytes), "speech-limit.mp3")

    return run


def upload_sync(url: str, size: float) -> Result:
    nbytes = _payloads.megabytes_to_bytes(size)
    path = _payloads.upload_path_name(nbytes)
    mp_head, mp_tail = _payloads.multipart_framing()
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    buf = bytearray(256 * 1024)
    view = memoryview(buf)
    # Connected before the clock starts: the clients' connections are open too (warm-up).
    with socket.create_connection((host, port), timeout=_common.BUDGET_S) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        probe = _common.IOProbe()
        with open(path, "rb", buffering=0) as f:
            total = len(mp_head) + os.fstat(f.fileno()).st_size + len(mp_tail)
            head = (
                f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {_common.API_KEY}\r\n"
                f"Content-Type: multipart/form-data; boundary={_payloads.UPLOAD_BOUNDARY}\r\n"
                f"Content-Length: {total}\r\n\r\n"
            ).encode()
            sendall = sock.sendall
            sendall(head + mp_head)
            readinto = f.readinto
            while n := readinto(buf):
                sendall(view[:n])
            sendall(mp_tail)
            answer, _ = _read_answer(sock.recv, b"")
    received = _payloads.parse_transcription(loads(answer)["text"])
    return probe.done(received, nbytes)


def parse(url: str, size: float) -> Result:
    pieces = _payloads.parse_corpus(size)
    t0 = perf_counter()
    count = chars = 0
    tail = b""
    for piece in pieces:
        frames = (tail + piece).split(b"\n\n")
        tail = frames.pop()
        for frame in frames:
            payload = frame[6:]  # after b"data: "
            if payload == b"[DONE]":
                break
            content = loads(payload)["choices"][0]["delta"].get("content")
            count += 1
            if content:
                chars += len(content)
    return result(perf_counter() - t0, count, chars, sum(map(len, pieces)))


def _read_answer(recv: Any, buf: bytes) -> tuple[bytes, bytes]:
    """One ``Content-Length`` answer from ``buf`` + ``recv()``: ``(body, rest)``."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        buf += recv(65536)
    i = buf.find(b"Content-Length:", 0, end)
    length = int(buf[i + 15 : buf.find(b"\r\n", i)])
    stop = end + 4 + length
    while len(buf) < stop:
        buf += recv(65536)
    return buf[end + 4 : stop], buf[stop:]


def _ok(body: bytes) -> bool:
    return bool(loads(body)["choices"][0]["message"]["content"] == _payloads.COMPLETION_CONTENT)


def seq_sync(url: str, size: float) -> Result:
    addr, req = _request(url, "/v1/chat/completions", {"model": MODEL, "messages": MESSAGES})
    with socket.create_connection(addr, timeout=_common.BUDGET_S) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = perf_counter()
        ok = 0
        buf = b""
        for _ in range(int(size)):
            sock.sendall(req)
            body, buf = _read_answer(sock.recv, buf)
            ok += _ok(body)
        return result(perf_counter() - t0, ok)


def conc_select(url: str, size: float) -> Result:
    """``total`` requests over ``CONCURRENCY`` non-blocking keep-alive sockets, one selector."""
    import selectors
    import time

    addr, req = _request(url, "/v1/chat/completions", {"model": MODEL, "messages": MESSAGES})
    total = int(size)
    sel = selectors.DefaultSelector()
    t0 = perf_counter()
    deadline = time.monotonic() + _common.BUDGET_S
    started = ok = 0
    socks = []
    for _ in range(min(_common.CONCURRENCY, total)):
        sock = socket.create_connection(addr, timeout=_common.BUDGET_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
        sock.sendall(req)
        started += 1
        sel.register(sock, selectors.EVENT_READ, [b""])
    try:
        while ok < total and time.monotonic() < deadline:
            for key, _ in sel.select(1.0):
                sock, state = key.fileobj, key.data
                data = sock.recv(65536)  # type: ignore[union-attr]
                if not data:
                    raise ConnectionError("the server closed a connection")
                buf = state[0] + data
                while (end := buf.find(b"\r\n\r\n")) >= 0:
                    i = buf.find(b"Content-Length:", 0, end)
                    stop = end + 4 + int(buf[i + 15 : buf.find(b"\r\n", i)])
                    if len(buf) < stop:
                        break
                    ok += _ok(buf[end + 4 : stop])
                    buf = buf[stop:]
                    if started < total:
                        started += 1
                        sock.sendall(req)  # type: ignore[union-attr]
                state[0] = buf
        return result(perf_counter() - t0, ok)
    finally:
        sel.close()
        for sock in socks:
            sock.close()


TABLE = {
    "chat.sync": chat_sync,
    "responses.sync": responses_sync,
    "parse.untyped": parse,
    "seq.sync": seq_sync,
    "conc.select": conc_select,
    "messages.sync": messages_sync,
    "speech.sync": _speech(False),
    "speech.sync-file": _speech(True),
    "speech.discard": _speech(False, discard=True),
    "upload.sync": upload_sync,
}

if __name__ == "__main__":
    sys.exit(_common.main(TABLE))
