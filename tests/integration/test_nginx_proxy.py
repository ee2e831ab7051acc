"""R9S through nginx: TLS with a private CA, gzip on JSON answers, unbuffered streams, keep-alive.

nginx (started by the ``nginx`` fixture) terminates TLS for 127.0.0.1 with a certificate from
a CA the tests made, gzips ``application/json`` answers, relays event streams unbuffered over
HTTP/1.1 keep-alive to the upstream, and sits in front of ``FakeServer``, whose answers are
deterministic ("Hello! You said: <last user message>").  Sync client (``UrllibTransport``) and
async client (``H11Transport``, under asyncio and trio) alike.
"""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from _nginx import Nginx

from r9s import R9S, errors, protocol
from r9s.testing import FakeServer
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.urllib import UrllibTransport

KEY = "sk-nginx-test-key"
MSGS = [{"role": "user", "content": "Hello through nginx, how are you?"}]
CHAT_TEXT = "Hello! You said: Hello through nginx, how are you?"
RESP_TEXT = "Hello! You said: Tell me a joke"


def client(nginx: Nginx, **kw: object) -> R9S:
    return R9S(
        api_key=KEY,
        server_url=nginx.url,
        retry_config=None,
        timeout_ms=10_000,
        verify=str(nginx.tls.ca),
        **kw,  # type: ignore[arg-type]
    )


def chat_request(nginx: Nginx, *, stream: bool = False, tag: str = "") -> protocol.Request:
    headers = {"X-Test-Tag": tag} if tag else None
    return protocol.build_request(
        "chat.create",
        api_key=KEY,
        server_url=nginx.url,
        model="m",
        messages=MSGS,
        stream=stream,
        http_headers=headers,
    )


# -- sync -----------------------------------------------------------------------------------


def completion_text(upstream: FakeServer) -> str:
    """The completion FakeServer gives for the prompt used here, asked directly (no nginx)."""
    with R9S(api_key=KEY, server_url=upstream.url, retry_config=None) as direct:
        res = direct.completions.create(model="m", prompt="Once upon a time", max_tokens=6)
    return str(res.choices[0].text)


def test_sync_chat_completions_responses_streamed_and_not(
    nginx: Nginx, upstream: FakeServer
) -> None:
    with client(nginx) as c:
        res = c.chat.create(model="m", messages=MSGS)
        assert res.choices[0].message.content == CHAT_TEXT
        with c.chat.create(model="m", messages=MSGS, stream=True) as stream:
            deltas = [ch.choices[0].delta.content or "" for ch in stream if ch.choices]
        assert "".join(deltas) == CHAT_TEXT
        assert len([d for d in deltas if d]) > 3  # really streamed, piece by piece

        comp = c.completions.create(model="m", prompt="Once upon a time", max_tokens=6)
        text = comp.choices[0].text
        assert text == completion_text(upstream)
        with c.completions.create(
            model="m", prompt="Once upon a time", max_tokens=6, stream=True
        ) as parts:
            assert "".join(p.choices[0].text or "" for p in parts if p.choices) == text

        resp = c.responses.create(model="m", input="Tell me a joke")
        assert resp.output_text == RESP_TEXT
        with c.responses.create(model="m", input="Tell me a joke", stream=True) as events:
            kinds, deltas = [], []
            for e in events:
                kinds.append(e.type)
                if e.type == "response.output_text.delta":
                    deltas.append(e.delta)
        assert "".join(deltas) == RESP_TEXT
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"


def test_sync_json_answer_is_gzipped_by_nginx(nginx: Nginx) -> None:
    with UrllibTransport(verify=str(nginx.tls.ca)) as transport:
        req = chat_request(nginx)
        with transport.handle_request(req, protocol.Timeout.from_ms(10_000)) as res:
            body = b"".join(iter(res.read_chunk, b""))
            assert res.status_code == 200
            assert res.headers.get("content-encoding") == "gzip"
            assert "content-length" not in res.headers  # gzip made it chunked
        doc = json.loads(gzip.decompress(body))
        assert doc["choices"][0]["message"]["content"] == CHAT_TEXT
        parsed = protocol.parse_response("chat.create", 200, res.headers, gzip.decompress(body))
        assert parsed.choices[0].message.content == CHAT_TEXT

        stream_req = chat_request(nginx, stream=True)
        with transport.handle_request(stream_req, protocol.Timeout.from_ms(10_000)) as res:
            assert res.headers.get("content-type", "").startswith("text/event-stream")
            assert res.headers.get("content-encoding") is None  # not in gzip_types
            while res.read_chunk():
                pass


def test_sync_keepalive_one_connection_for_ten_requests(nginx: Nginx) -> None:
    tag = uuid.uuid4().hex
    with client(nginx) as c:
        for i in range(10):
            headers = {"X-Test-Tag": tag}
            if i % 2:
                with c.chat.create(
                    model="m", messages=MSGS, stream=True, http_headers=headers
                ) as s:
                    assert "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
            else:
                assert c.chat.create(model="m", messages=MSGS, http_headers=headers).choices
    lines = nginx.log_lines(tag, 10)
    assert len(lines) == 10
    assert {line.connection for line in lines} == {lines[0].connection}, lines
    assert sorted(line.connection_requests for line in lines) == list(range(1, 11))
    assert [line.content_encoding for line in lines[::2]] == ["gzip"] * 5


def test_sync_untrusted_ca_fails_with_a_clear_error(nginx: Nginx) -> None:
    """verify=True (the default) checks against the system store, which lacks the test CA."""
    with R9S(api_key=KEY, server_url=nginx.url, retry_config=None, timeout_ms=5000) as c:
        with pytest.raises(errors.NoResponseError, match="certificate") as info:
            c.chat.create(model="m", messages=MSGS)
    assert "127.0.0.1" in str(info.value)


# -- async: asyncio and trio ---------------------------------------------------------------


@pytest.mark.anyio
async def test_async_chat_completions_responses_streamed_and_not(
    nginx: Nginx, upstream: FakeServer
) -> None:
    async with client(nginx) as c:
        res = await c.chat.create_async(model="m", messages=MSGS)
        assert res.choices[0].message.content == CHAT_TEXT
        async with await c.chat.create_async(model="m", messages=MSGS, stream=True) as stream:
            deltas = [ch.choices[0].delta.content or "" async for ch in stream if ch.choices]
        assert "".join(deltas) == CHAT_TEXT
        assert len([d for d in deltas if d]) > 3

        comp = await c.completions.create_async(model="m", prompt="Once upon a time", max_tokens=6)
        text = comp.choices[0].text
        assert text == completion_text(upstream)
        parts = await c.completions.create_async(
            model="m", prompt="Once upon a time", max_tokens=6, stream=True
        )
        async with parts:
            assert "".join([p.choices[0].text or "" async for p in parts if p.choices]) == text

        resp = await c.responses.create_async(model="m", input="Tell me a joke")
        assert resp.output_text == RESP_TEXT
        events = await c.responses.create_async(model="m", input="Tell me a joke", stream=True)
        async with events:
            seen = [e async for e in events]
        deltas = [e.delta for e in seen if e.type == "response.output_text.delta"]
        assert "".join(deltas) == RESP_TEXT
        assert seen[0].type == "response.created" and seen[-1].type == "response.completed"


@pytest.mark.anyio
async def test_async_json_answer_is_gzipped_by_nginx(nginx: Nginx) -> None:
    async with H11Transport(verify=str(nginx.tls.ca)) as transport:
        res = await transport.handle_async_request(
            chat_request(nginx), protocol.Timeout.from_ms(10_000)
        )
        async with res:
            pieces = []
            while piece := await res.read_chunk():
                pieces.append(piece)
        assert res.status_code == 200
        assert res.headers.get("content-encoding") == "gzip"
        doc = json.loads(gzip.decompress(b"".join(pieces)))
        assert doc["choices"][0]["message"]["content"] == CHAT_TEXT


@pytest.mark.anyio
async def test_async_keepalive_one_connection_for_ten_requests(nginx: Nginx) -> None:
    tag = uuid.uuid4().hex
    transport = H11Transport(verify=str(nginx.tls.ca))
    async with client(nginx, async_client=transport) as c:
        for i in range(10):
            headers = {"X-Test-Tag": tag}
            if i % 2:
                stream = await c.chat.create_async(
                    model="m", messages=MSGS, stream=True, http_headers=headers
                )
                async with stream:
                    assert [ch async for ch in stream]
            else:
                res = await c.chat.create_async(model="m", messages=MSGS, http_headers=headers)
                assert res.choices[0].message.content == CHAT_TEXT
        stats = transport.stats
        await transport.aclose()
    assert stats.connections_opened == 1
    assert stats.requests == 10 and stats.reused == 9
    lines = nginx.log_lines(tag, 10)
    assert len(lines) == 10
    assert {line.connection for line in lines} == {lines[0].connection}, lines


@pytest.mark.anyio
async def test_async_untrusted_ca_fails_with_a_clear_error(nginx: Nginx) -> None:
    """verify=True (the default) checks against the system store, which lacks the test CA."""
    async with R9S(api_key=KEY, server_url=nginx.url, retry_config=None, timeout_ms=5000) as c:
        with pytest.raises(errors.NoResponseError, match="certificate") as info:
            await c.chat.create_async(model="m", messages=MSGS)
    assert "127.0.0.1" in str(info.value)
