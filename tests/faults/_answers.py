"""The fault matrix's canonical answers: what a healthy server says, as bytes to cut up.

An OpenAI-shaped chat completion (or its stream) whose text is ``reply_text(request)``:
"Hello! You said: <last user message>", the same text ``r9s.testing.FakeServer`` answers, so
one expected string serves every server.  The scenarios in ``test_fault_matrix.py`` send these
answers whole, cut, dripped or reset, through the shared ``ScriptedServer``.
"""

from __future__ import annotations

import json
from typing import Any

from _support.scripted_server import Conn, ReceivedRequest, chunk

__all__ = ["json_answer", "normal", "reply_pieces", "reply_text", "sse_answer", "sse_events"]


def reply_text(req: ReceivedRequest) -> str:
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


def json_answer(req: ReceivedRequest, *, extra: str = "") -> tuple[bytes, bytes]:
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


def sse_events(req: ReceivedRequest) -> list[bytes]:
    """The events of a normal streamed answer; the last one is ``data: [DONE]``."""
    events = [b"data: " + _chunk_doc({"role": "assistant", "content": ""}) + b"\n\n"]
    for piece in reply_pieces(reply_text(req)):
        events.append(b"data: " + _chunk_doc({"content": piece}) + b"\n\n")
    events.append(b"data: " + _chunk_doc({}, "stop") + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def sse_answer(req: ReceivedRequest, *, extra: str = "") -> tuple[bytes, list[bytes]]:
    """``(head, chunks)`` of a normal streamed answer: one chunk per event, then the last chunk."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        f"{extra}"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    return head.encode("latin-1"), [chunk(e) for e in sse_events(req)] + [b"0\r\n\r\n"]


def normal(conn: Conn, req: ReceivedRequest) -> bool:
    """Answer like a healthy server (keep-alive)."""
    if req.stream:
        head, chunks = sse_answer(req)
        return conn.send(head + b"".join(chunks))
    head, body = json_answer(req)
    return conn.send(head + body)
