"""Helpers for driving the built-in server over loopback with ``http.client`` and raw sockets.

Why not the r9s client: these tests pin the server, the client's peer; they must not depend on
the client they help test.  Every socket read has a timeout (``TIMEOUT``, a safety limit no
assertion depends on).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import time
from typing import Any

from r9s.testing import FakeServer

TIMEOUT = 10.0
AUTH = {"Authorization": "Bearer sk-test"}


def request(
    server: FakeServer,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: a dict body goes as JSON (with its Content-Type)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        sent = dict(AUTH)
        raw: bytes | None = None
        if isinstance(body, bytes):
            raw = body
        elif body is not None:
            raw = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        conn.request(method, path, raw, sent)
        res = conn.getresponse()
        data = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    finally:
        conn.close()


def raw_request(
    server: FakeServer, path: str, body: bytes, headers: dict[str, str]
) -> socket.socket:
    """Send one request (with Content-Length) on a new raw socket; return it (timeout set)."""
    sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
    lines = [f"POST {path} HTTP/1.1", "Host: test", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in {**AUTH, **headers}.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return sock


def read_to_eof(sock: socket.socket, limit: float = TIMEOUT) -> bytes:
    deadline = time.monotonic() + limit
    chunks: list[bytes] = []
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
    raise AssertionError("server did not close the connection")


def read_until(sock: socket.socket, needle: bytes, received: bytes = b"") -> bytes:
    """Read until ``needle`` arrived (bounded by ``TIMEOUT``); everything read so far."""
    deadline = time.monotonic() + TIMEOUT
    while needle not in received:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} within {TIMEOUT} s: {received[-200:]!r}")
        data = sock.recv(65536)
        if not data:
            raise AssertionError(f"EOF before {needle!r}: {received[-200:]!r}")
        received += data
    return received


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    return lines[0], headers, body


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """The payload of a chunked body and whether its terminator was seen."""
    chunks: list[bytes] = []
    rest = body
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return b"".join(chunks), rest == b"\r\n"
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(chunks), False


def sse(body: bytes) -> list[tuple[str | None, str]]:
    """(``event:`` name or None, data) of each event of an SSE body."""
    out: list[tuple[str | None, str]] = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        out.append((name, "\n".join(data)))
    return out


def typed(body: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """(``event:`` name, data JSON) of each event."""
    return [(name, json.loads(data)) for name, data in sse(body)]


class Form:
    """A ``multipart/form-data`` body written by hand, and what the server should read of it."""

    def __init__(self, boundary: str = "r9s-test-boundary-0123456789") -> None:
        self.boundary = boundary
        self.parts: list[bytes] = []
        self.fields: dict[str, Any] = {}
        self.files: list[dict[str, Any]] = []
        self.order: list[str] = []

    def field(self, name: str, value: str) -> Form:
        head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
        self.parts.append(head.encode() + value.encode())
        had = self.fields.get(name)
        if had is None:
            self.fields[name] = value
        elif isinstance(had, list):
            had.append(value)
        else:
            self.fields[name] = [had, value]
        self.order.append(name)
        return self

    def file(
        self, name: str, filename: str, content: bytes, content_type: str | None = None
    ) -> Form:
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        self.parts.append(head.encode() + b"\r\n" + content)
        self.files.append(
            {
                "name": name,
                "filename": filename,
                "content_type": content_type,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        )
        self.order.append(name)
        return self

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def body(self) -> bytes:
        delimiter = f"--{self.boundary}\r\n".encode()
        out = b"".join(delimiter + part + b"\r\n" for part in self.parts)
        return out + f"--{self.boundary}--\r\n".encode()

    def received(self) -> dict[str, Any]:
        return {"fields": self.fields, "files": self.files, "order": self.order}

    def send(
        self, server: FakeServer, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {"Content-Type": self.content_type, **(headers or {})}
        return request(server, path, self.body(), sent)
