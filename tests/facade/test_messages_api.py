"""``client.messages``: the Anthropic Messages API end to end, sync, asyncio and trio.

Scripted servers on 127.0.0.1 answer with Anthropic's stream dialect (typed ``event:``
lines, no ``[DONE]``, ``event: error``): the stream ends at ``message_stop`` at once even when
the server holds the connection open; an error event after N deltas delivers the N deltas,
then raises its class; a cut stream raises ``IncompleteResponseError``; a stall trips
``idle_timeout``; a task cancelled mid-stream leaves the pool usable; 429 and 529 before the
first event are retried.  What goes on the wire: the caller's tool schema whole.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import trio
from _support.scripted_server import (
    Conn,
    ReceivedRequest,
    ScriptedServer,
    chunk,
    response,
    serve_requests,
)

from r9s import R9S, errors
from r9s.utils import BackoffStrategy, RetryConfig

KEY = "sk-messages-0123456789"
BOUND = 5.0  # guards against hangs; times nothing
RUNTIMES = ["sync", "asyncio", "trio"]
FAST_RETRY = RetryConfig("backoff", BackoffStrategy(5, 20, 2, max_elapsed_time=3000), True)
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
        },
    }
]
MSGS = [{"role": "user", "content": "Weather in Zürich?"}]


def frame(kind: str, **data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data}, ensure_ascii=False)}\n\n".encode()


START = frame(
    "message_start",
    message={
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude",
        "stop_reason": None,
        "usage": {"input_tokens": 12, "output_tokens": 1},
    },
)
TEXT = ["It is ", "sunny in ", "Zürich."]
EVENTS = [
    START,
    frame("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    frame("ping"),
    *(frame("content_block_delta", index=0, delta={"type": "text_delta", "text": t}) for t in TEXT),
    frame("content_block_stop", index=0),
    frame(
        "content_block_start",
        index=1,
        content_block={"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
    ),
    frame(
        "content_block_delta",
        index=1,
        delta={"type": "input_json_delta", "partial_json": '{"city": "Zü'},
    ),
    frame(
        "content_block_delta",
        index=1,
        delta={"type": "input_json_delta", "partial_json": 'rich", "unit": "c"}'},
    ),
    frame("content_block_stop", index=1),
    frame(
        "message_delta",
        delta={"stop_reason": "tool_use", "stop_sequence": None},
        usage={"output_tokens": 40},
    ),
    frame("message_stop"),
]
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nx-request-id: req_m\r\n\r\n"


def streamed(
    events: list[bytes], *, end: bool = True, hold: float = 0.0, cut: bool = False
) -> Callable[[Conn, ReceivedRequest], bool]:
    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(SSE_HEAD + b"".join(chunk(e) for e in events))
        if cut:
            conn.sendall(chunk(b'event: content_block_delta\ndata: {"type": "content_')[:-2])
            conn.close()
            return False
        if hold:
            conn.hold(hold)
            return False
        if end:
            conn.sendall(b"0\r\n\r\n")
        return end

    return handler


def anthropic_error(
    status: int, kind: str, message: str
) -> Callable[[Conn, ReceivedRequest], bool]:
    body = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    headers = [("Content-Type", "application/json"), ("retry-after-ms", "20")]

    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(response(body, status=status, reason="X", headers=headers))
        return True

    return handler


class Script:
    def __init__(self, *handlers: Callable[[Conn, ReceivedRequest], bool]) -> None:
        self.handlers = list(handlers)
        self.seen: list[ReceivedRequest] = []

    def __call__(self, conn: Conn, req: ReceivedRequest) -> bool:
        self.seen.append(req)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(conn, req)


def read(
    runtime: str, url: str, *, retry: RetryConfig | None = None, limit: int | None = None, **kw: Any
) -> tuple[list[Any], BaseException | None, float]:
    """Stream one message; returns (events read, the error raised or None, seconds taken)."""
    params = {"model": "claude", "messages": MSGS, "max_tokens": 256, "stream": True, **kw}
    events: list[Any] = []
    started = time.monotonic()
    if runtime == "sync":
        with R9S(api_key=KEY, server_url=url, retry_config=retry) as client:
            try:
                with client.messages.create(**params) as stream:
                    for event in stream:
                        events.append(event)
                        if limit is not None and len(events) >= limit:
                            break
            except errors.R9SError as exc:
                return events, exc, time.monotonic() - started
        return events, None, time.monotonic() - started

    async def main() -> tuple[list[Any], BaseException | None, float]:
        async with R9S(api_key=KEY, server_url=url, retry_config=retry) as client:
            try:
                stream = await client.messages.create_async(**params)
                async with stream:
                    async for event in stream:
                        events.append(event)
                        if limit is not None and len(events) >= limit:
                            break
            except errors.R9SError as exc:
                return events, exc, time.monotonic() - started
        return events, None, time.monotonic() - started

    return asyncio.run(main()) if runtime == "asyncio" else trio.run(main)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_stream_is_read_whole_and_the_tool_schema_goes_out_whole(runtime: str) -> None:
    script = Script(streamed(EVENTS))
    with ScriptedServer(serve_requests(script)) as server:
        events, err, _ = read(runtime, server.url("/v1"), tools=TOOLS, system="Be brief.")
    assert err is None
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop" and "ping" not in types
    assert "".join(
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ) == "".join(TEXT)
    (req,) = script.seen
    assert (req.method, req.target) == ("POST", "/v1/messages")
    assert req.header("accept") == "text/event-stream"
    body = req.json
    assert body["tools"] == TOOLS  # the schema's properties whole (the published SDK sends {})
    assert body["system"] == "Be brief." and body["stream"] is True and "service_tier" not in body


def test_helpers_assemble_the_message() -> None:
    script = Script(streamed(EVENTS))
    with ScriptedServer(serve_requests(script)) as server:
        with R9S(api_key=KEY, server_url=server.url("/v1")) as client:
            stream = client.messages.create(model="claude", messages=MSGS, stream=True)
            assert "".join(stream.text_deltas()) == "".join(TEXT)
            final = stream.get_final()
    assert final.stop_reason == "tool_use"
    assert final.content[0].text == "".join(TEXT)
    assert final.content[1].input == {"city": "Zürich", "unit": "c"}
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 40)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_message_stop_ends_the_stream_while_the_server_holds_the_connection(runtime: str) -> None:
    script = Script(streamed(EVENTS, hold=10.0))
    with ScriptedServer(serve_requests(script)) as server:
        events, err, took = read(runtime, server.url("/v1"))
    assert err is None and events[-1].type == "message_stop"
    assert took < BOUND  # not the 10 s the server holds


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_error_event_after_the_deltas_raises_its_class(runtime: str) -> None:
    overloaded = frame(
        "error", error={"type": "overloaded_error", "message": "Overloaded right now"}
    )
    script = Script(streamed([*EVENTS[:6], overloaded]))
    with ScriptedServer(serve_requests(script)) as server:
        events, err, _ = read(runtime, server.url("/v1"))
    assert [e.type for e in events][-3:] == ["content_block_delta"] * 3
    assert isinstance(err, errors.ServiceUnavailableError)
    assert err.retryable is True and "Overloaded right now" in str(err)
    assert err.events_received == len(events)
    assert err.request_id == "req_m"
    assert KEY not in str(err)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_cut_stream_raises_incomplete(runtime: str) -> None:
    script = Script(streamed(EVENTS[:4], cut=True))
    with ScriptedServer(serve_requests(script)) as server:
        events, err, took = read(runtime, server.url("/v1"))
    assert isinstance(err, errors.IncompleteResponseError)
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
    ]
    assert took < BOUND


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_stall_trips_idle_timeout(runtime: str) -> None:
    script = Script(streamed(EVENTS[:5], hold=10.0))
    with ScriptedServer(serve_requests(script)) as server:
        events, err, took = read(runtime, server.url("/v1"), idle_timeout=0.2)
    assert isinstance(err, errors.RequestTimeoutError)
    assert "idle_timeout" in str(err) and err.events_received == len(events) == 4
    assert took < BOUND


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_429_and_529_before_the_first_event_are_retried(runtime: str) -> None:
    script = Script(
        anthropic_error(429, "rate_limit_error", "slow down"),
        anthropic_error(529, "overloaded_error", "Overloaded"),
        streamed(EVENTS),
    )
    with ScriptedServer(serve_requests(script)) as server:
        events, err, _ = read(runtime, server.url("/v1"), retry=FAST_RETRY)
    assert err is None and events[-1].type == "message_stop"
    assert len(script.seen) == 3


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 529])
def test_anthropic_error_bodies_map_by_status(status: int) -> None:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }
    expected = {
        400: errors.BadRequestError,
        401: errors.AuthenticationError,
        404: errors.NotFoundError,
        429: errors.RateLimitError,
        500: errors.InternalServerError,
        529: errors.ServiceUnavailableError,
    }
    script = Script(anthropic_error(status, kinds[status], f"the {kinds[status]} message"))
    with ScriptedServer(serve_requests(script)) as server:
        with R9S(api_key=KEY, server_url=server.url("/v1"), retry_config=None) as client:
            with pytest.raises(expected[status]) as info:
                client.messages.create(model="claude", messages=MSGS, max_tokens=10)
    assert info.value.status_code == status
    assert f"the {kinds[status]} message" in str(info.value)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelled_mid_stream_leaves_the_pool_usable(backend: str) -> None:
    script = Script(streamed(EVENTS[:5], hold=10.0), streamed(EVENTS))

    async def main(url: str) -> str:
        async with R9S(api_key=KEY, server_url=url) as client:
            seen = 0
            with anyio.move_on_after(0.3) as scope:
                stream = await client.messages.create_async(
                    model="claude", messages=MSGS, stream=True
                )
                async with stream:
                    async for _ in stream:
                        seen += 1
            assert scope.cancelled_caught and seen == 4
            final = await (
                await client.messages.create_async(model="claude", messages=MSGS, stream=True)
            ).get_final()
            return str(final.content[0].text)

    with ScriptedServer(serve_requests(script)) as server:
        url = server.url("/v1")
        text = asyncio.run(main(url)) if backend == "asyncio" else trio.run(main, url)
    assert text == "".join(TEXT)
    assert len(script.seen) == 2
