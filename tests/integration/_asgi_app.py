"""A small OpenAI-compatible ASGI app (Starlette + sse-starlette), served by uvicorn for tests.

Why: most Python gateways in front of an LLM are ASGI apps that stream with sse-starlette, whose
wire habits differ from our own test server: CRLF line endings, ``: ping`` comment events
interleaved with the data at a timer's pace, and uvicorn's chunked framing.  The answers say
what ``r9s.testing.FakeServer`` says, "Hello! You said: <last user message>", so the tests can
compare text exactly.

Run as a script, it serves on a listening socket inherited from the parent (``fd`` argument),
so the port is bound before the process starts and no readiness race exists::

    python _asgi_app.py <fd>
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

#: sse-starlette's keep-alive comment interval, seconds.
PING_INTERVAL = 0.05
#: Pause between two events, seconds.
EVENT_DELAY = 0.01
#: One longer pause mid-stream, so at least two pings fall between two events.
LONG_PAUSE = 0.12
CREATED = 1700000000


def reply(said: str) -> str:
    return f"Hello! You said: {said}"


def pieces(text: str) -> list[str]:
    """``text`` cut into word-sized pieces (spaces kept), one per event."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]]


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        if isinstance(content, str):
            return content
    return ""


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


async def _paced(items: list[Any]) -> AsyncIterator[Any]:
    """``items`` one by one, with a pause before each (a long one in the middle)."""
    for i, item in enumerate(items):
        await anyio.sleep(LONG_PAUSE if i == len(items) // 2 else EVENT_DELAY)
        yield item


async def chat(request: Request) -> Response:
    body = await request.json()
    text = reply(_last_user_text(body.get("messages")))
    model = body.get("model", "m")
    if not body.get("stream"):
        return JSONResponse(
            {
                "id": "chatcmpl-asgi",
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
        )

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, str]:
        doc = {
            "id": "chatcmpl-asgi",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return {"data": _dumps(doc)}

    async def events() -> AsyncIterator[dict[str, str]]:
        yield chunk({"role": "assistant", "content": ""})
        async for piece in _paced(pieces(text)):
            yield chunk({"content": piece})
        yield chunk({}, "stop")
        yield {"data": "[DONE]"}

    return EventSourceResponse(events(), ping=PING_INTERVAL)


async def responses(request: Request) -> Response:
    body = await request.json()
    text = reply(_last_user_text(body.get("input")))
    model = body.get("model", "m")
    item_id = "msg_asgi"

    def response(status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": "resp_asgi",
            "object": "response",
            "created_at": CREATED,
            "status": status,
            "model": model,
            "output": [
                {
                    "type": "message",
                    "id": item_id,
                    "status": status,
                    "role": "assistant",
                    "content": content,
                }
            ]
            if content
            else [],
        }

    final = response("completed", [{"type": "output_text", "text": text, "annotations": []}])
    if not body.get("stream"):
        return JSONResponse(final)

    seq = 0

    def event(kind: str, **fields: Any) -> dict[str, str]:
        nonlocal seq
        seq += 1
        return {"event": kind, "data": _dumps({"type": kind, "sequence_number": seq, **fields})}

    async def events() -> AsyncIterator[dict[str, str]]:
        yield event("response.created", response=response("in_progress", []))
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        async for piece in _paced(pieces(text)):
            yield event("response.output_text.delta", **where, delta=piece)
        yield event("response.output_text.done", **where, text=text)
        yield event("response.completed", response=final)

    return EventSourceResponse(events(), ping=PING_INTERVAL)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
)


def main(fd: int) -> None:
    import socket

    import uvicorn

    sock = socket.socket(fileno=fd)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(int(sys.argv[1]))
