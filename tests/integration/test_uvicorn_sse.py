"""R9S against an ASGI server: uvicorn serving Starlette routes that stream with sse-starlette.

sse-starlette frames events with CRLF line endings and interleaves ``: ping`` comments (every
50 ms here, while events are paced so pings fall between them); uvicorn frames the body as
chunked.  The first test reads the raw bytes to prove the wire really carries pings and CRLF;
the others check that the client hands over every delta intact and nothing for the pings.
"""

from __future__ import annotations

import pytest
from _procs import AsgiServer

from r9s import R9S, protocol
from r9s.transports.urllib import UrllibTransport

pytest.importorskip("uvicorn")
pytest.importorskip("sse_starlette")

KEY = "sk-asgi-test-key"
MSGS = [{"role": "user", "content": "Stream me something, please"}]
CHAT_TEXT = "Hello! You said: Stream me something, please"
RESP_TEXT = "Hello! You said: Tell me a joke"
#: Content pieces the app sends for CHAT_TEXT: one per word.
N_PIECES = len(CHAT_TEXT.split(" "))


def client(server: AsgiServer) -> R9S:
    return R9S(api_key=KEY, server_url=server.url, retry_config=None, timeout_ms=10_000)


def test_the_wire_has_pings_and_crlf(asgi_server: AsgiServer) -> None:
    req = protocol.build_request(
        "chat.create",
        api_key=KEY,
        server_url=asgi_server.url,
        model="m",
        messages=MSGS,
        stream=True,
    )
    with UrllibTransport() as transport:
        with transport.handle_request(req, protocol.Timeout.from_ms(10_000)) as res:
            raw = b"".join(iter(res.read_chunk, b""))
    assert res.headers.get("content-type", "").startswith("text/event-stream")
    assert b"\r\n\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")  # CRLF only
    assert raw.count(b": ping") >= 2
    assert raw.rstrip().endswith(b"data: [DONE]")

    # and the core decodes those exact bytes, in any chunking, to the same events
    for size in (1, 7, len(raw)):
        dec = protocol.stream_decoder("chat.create", 200, res.headers)
        chunks = []
        for i in range(0, len(raw), size):
            chunks.extend(dec.feed(raw[i : i + size]))
        assert dec.done and dec.error is None
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == CHAT_TEXT


def test_sync_chat_and_responses(asgi_server: AsgiServer) -> None:
    with client(asgi_server) as c:
        assert c.chat.create(model="m", messages=MSGS).choices[0].message.content == CHAT_TEXT
        with c.chat.create(model="m", messages=MSGS, stream=True) as stream:
            chunks = list(stream)
        deltas = [ch.choices[0].delta.content for ch in chunks if ch.choices]
        # role chunk, one per word, the finish chunk: no event for a ping, none lost
        assert len(chunks) == N_PIECES + 2
        assert "".join(d or "" for d in deltas) == CHAT_TEXT
        assert chunks[-1].choices[0].finish_reason == "stop"

        assert c.responses.create(model="m", input="Tell me a joke").output_text == RESP_TEXT
        with c.responses.create(model="m", input="Tell me a joke", stream=True) as events:
            seen = list(events)
        assert [e.type for e in seen[:1] + seen[-2:]] == [
            "response.created",
            "response.output_text.done",
            "response.completed",
        ]
        deltas = [e.delta for e in seen if e.type == "response.output_text.delta"]
        assert "".join(deltas) == RESP_TEXT
        assert seen[-1].response.output_text == RESP_TEXT


@pytest.mark.anyio
async def test_async_chat_and_responses(asgi_server: AsgiServer) -> None:
    async with client(asgi_server) as c:
        res = await c.chat.create_async(model="m", messages=MSGS)
        assert res.choices[0].message.content == CHAT_TEXT
        stream = await c.chat.create_async(model="m", messages=MSGS, stream=True)
        async with stream:
            chunks = [ch async for ch in stream]
        assert len(chunks) == N_PIECES + 2
        assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == (
            CHAT_TEXT
        )

        resp = await c.responses.create_async(model="m", input="Tell me a joke")
        assert resp.output_text == RESP_TEXT
        events = await c.responses.create_async(model="m", input="Tell me a joke", stream=True)
        async with events:
            seen = [e async for e in events]
        deltas = [e.delta for e in seen if e.type == "response.output_text.delta"]
        assert "".join(deltas) == RESP_TEXT
        assert seen[0].type == "response.created" and seen[-1].type == "response.completed"


@pytest.mark.anyio
async def test_async_text_deltas_and_final(asgi_server: AsgiServer) -> None:
    async with client(asgi_server) as c:
        stream = await c.chat.create_async(model="m", messages=MSGS, stream=True)
        async with stream:
            text = "".join([t async for t in stream.text_deltas()])
        assert text == CHAT_TEXT
        events = await c.responses.create_async(model="m", input="Tell me a joke", stream=True)
        async with events:
            final = await events.get_final()
        assert final.output_text == RESP_TEXT
