"""Tests of ``r9s.testing.FakeServer`` using only ``http.client`` and raw sockets.

Why: the server is the peer of most SDK tests, so its own behaviour (shapes, keep-alive,
faults, shutdown) is pinned here without depending on the SDK.  Every socket read has a
timeout and no test sleeps more than a fraction of a second.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import r9s.testing
from r9s.testing import FakeServer, Fault

TIMEOUT = 5.0
AUTH = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
RESPONSES = "/v1/responses"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def connect(server: FakeServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)


def post(
    server: FakeServer,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    conn = connect(server)
    try:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request(method, path, raw, {**AUTH, **(headers or {})})
        res = conn.getresponse()
        data = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    finally:
        conn.close()


def chat(content: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


def data_events(body: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order."""
    text = body.decode().replace("\r\n", "\n")
    out = []
    for block in text.split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                out.append(line[6:])
    return out


def typed_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data JSON) of a Responses SSE body."""
    out = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def raw_request(server: FakeServer, path: str, body: Any, headers: dict[str, str]) -> socket.socket:
    """Send one request on a new raw socket and return the socket (timeout set)."""
    sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: test", f"Content-Length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in {**AUTH, **headers}.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
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


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    return lines[0], headers, body


def dechunk(body: bytes) -> tuple[list[bytes], bool]:
    """Chunks of a chunked body and whether the terminator was seen."""
    chunks: list[bytes] = []
    rest = body
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return chunks, rest == b"\r\n"
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    return chunks, False


# ------------------------------------------------------------------------ chat completions


def test_chat_non_stream_shape(server: FakeServer) -> None:
    status, headers, body = post(server, CHAT, chat("How are you?"))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] == "req_1"
    assert int(headers["content-length"]) == len(body)
    doc = json.loads(body)
    assert doc == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello! You said: How are you?",
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9},
        "system_fingerprint": "fp_r9s",
    }


def test_chat_uses_last_user_message_and_text_parts(server: FakeServer) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ]
    _, _, body = post(server, CHAT, {"model": "m", "messages": messages})
    assert json.loads(body)["choices"][0]["message"]["content"] == "Hello! You said: second"


def test_chat_max_tokens_cycles_words_and_n_choices(server: FakeServer) -> None:
    _, _, body = post(server, CHAT, chat("hi", max_tokens=6, n=3))
    doc = json.loads(body)
    assert [c["index"] for c in doc["choices"]] == [0, 1, 2]
    for choice in doc["choices"]:
        assert choice["message"]["content"] == "Hello! You said: hi Hello! You"
        assert choice["finish_reason"] == "length"
    assert doc["usage"]["completion_tokens"] == 18
    _, _, body = post(server, CHAT, chat("hi", max_completion_tokens=2))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Hello! You"


def test_chat_tool_call(server: FakeServer) -> None:
    tools = [
        {"type": "function", "function": {"name": "lookup"}},
        {"type": "function", "function": {"name": "other"}},
    ]
    _, _, body = post(server, CHAT, chat("weather", tools=tools))
    doc = json.loads(body)
    choice = doc["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": f"call_{doc['id'].split('-')[1]}",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"text": "weather"}'},
        }
    ]
    forced = {"type": "function", "function": {"name": "other"}}
    _, _, body = post(server, CHAT, chat("x", tools=tools, tool_choice=forced))
    call = json.loads(body)["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "other"
    _, _, body = post(server, CHAT, chat("x", tools=tools, tool_choice="none"))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Hello! You said: x"


def test_chat_stream_shape(server: FakeServer) -> None:
    request = chat("hi there", stream=True, stream_options={"include_usage": True})
    status, headers, body = post(server, CHAT, request)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["transfer-encoding"] == "chunked"
    events = data_events(body)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"] == chunks[0]["id"] and chunk["id"].startswith("chatcmpl-")
        assert chunk["created"] == 1700000000 and chunk["model"] == "m"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert pieces == ["Hello!", " You", " said:", " hi", " there"]
    assert chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}


def test_chat_stream_n_choices_and_length(server: FakeServer) -> None:
    _, _, body = post(server, CHAT, chat("hi", stream=True, n=2, max_tokens=5))
    chunks = [json.loads(e) for e in data_events(body)[:-1]]
    for index in (0, 1):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        text = "".join(c["delta"].get("content") or "" for c in mine)
        assert text == "Hello! You said: hi Hello!"
        assert mine[-1]["finish_reason"] == "length"


def test_chat_stream_tool_call_fragments(server: FakeServer) -> None:
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    _, _, body = post(server, CHAT, chat("weather", tools=tools, stream=True))
    chunks = [json.loads(e) for e in data_events(body)[:-1]]
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["index"] == 0 and first["id"].startswith("call_")
    assert first["type"] == "function"
    assert first["function"] == {"name": "lookup", "arguments": ""}
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[1:-1]]
    assert len(fragments) == 3
    assert all(set(f) == {"index", "function"} for f in fragments)
    assert "".join(f["function"]["arguments"] for f in fragments) == '{"text": "weather"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# ------------------------------------------------------------------------ completions


def test_completions_non_stream(server: FakeServer) -> None:
    request = {"model": "m", "prompt": ["Once upon a fox", "x"], "n": 2, "echo": True}
    _, _, body = post(server, COMPLETIONS, request)
    doc = json.loads(body)
    assert doc["object"] == "text_completion" and doc["id"].startswith("cmpl-")
    texts = [(c["index"], c["text"], c["finish_reason"], c["logprobs"]) for c in doc["choices"]]
    fox = "Once upon a fox and they lived happily ever after. The fox was happy too."
    x = "x and they lived happily ever after. The x was happy too."
    assert texts == [
        (0, fox, "stop", None),
        (1, fox, "stop", None),
        (2, x, "stop", None),
        (3, x, "stop", None),
    ]
    assert doc["usage"]["prompt_tokens"] == 5
    _, _, body = post(server, COMPLETIONS, {"model": "m", "prompt": "", "max_tokens": 3})
    choice = json.loads(body)["choices"][0]
    assert choice["text"] == " and they lived" and choice["finish_reason"] == "length"


def test_completions_stream(server: FakeServer) -> None:
    request = {"model": "m", "prompt": "a cat", "stream": True, "max_tokens": 4}
    _, _, body = post(server, COMPLETIONS, request)
    events = data_events(body)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == " and they lived happily"
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "length"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


# ------------------------------------------------------------------------ responses


def test_responses_non_stream(server: FakeServer) -> None:
    request = {"model": "m", "input": "Tell me a joke", "instructions": "be funny"}
    _, _, body = post(server, RESPONSES, request)
    doc = json.loads(body)
    n = doc["id"].split("_")[1]
    assert doc["object"] == "response" and doc["status"] == "completed"
    assert doc["created_at"] == 1700000000 and doc["model"] == "m"
    assert doc["output"] == [
        {
            "type": "message",
            "id": f"msg_{n}",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "Hello! You said: Tell me a joke",
                    "annotations": [],
                }
            ],
        }
    ]
    usage = doc["usage"]
    assert usage["input_tokens"] == 6 and usage["output_tokens"] == 7
    assert usage["total_tokens"] == 13


def test_responses_input_messages_and_limit(server: FakeServer) -> None:
    request = {
        "model": "m",
        "input": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": [{"type": "input_text", "text": "three"}]},
        ],
        "max_output_tokens": 3,
    }
    _, _, body = post(server, RESPONSES, request)
    doc = json.loads(body)
    assert doc["output"][0]["content"][0]["text"] == "Hello! You said:"
    # max_output_tokens only sets the length (as max_tokens for chat): still "completed".
    assert doc["status"] == "completed" and doc["incomplete_details"] is None
    assert doc["max_output_tokens"] == 3 and doc["usage"]["output_tokens"] == 3


def test_responses_stream(server: FakeServer) -> None:
    status, headers, body = post(server, RESPONSES, {"model": "m", "input": "hi", "stream": True})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in body
    events = typed_events(body)
    names = [name for name, _ in events]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 4,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["type"] for _, data in events] == names
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    created = events[0][1]["response"]
    assert created["status"] == "in_progress" and created["output"] == []
    deltas = [data for name, data in events if name.endswith(".delta")]
    assert all(d["output_index"] == 0 and d["content_index"] == 0 for d in deltas)
    assert all(d["item_id"] == f"msg_{created['id'].split('_')[1]}" for d in deltas)
    text = "".join(d["delta"] for d in deltas)
    assert text == "Hello! You said: hi"
    assert events[8][1]["text"] == text
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == text
    assert final["usage"]["output_tokens"] == 4


# ------------------------------------------------------------------------ errors


def assert_error(
    status: int, headers: dict[str, str], body: bytes, expected: int
) -> dict[str, Any]:
    assert status == expected
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return dict(error)


def test_auth_required() -> None:
    with FakeServer(api_key="secret") as server:
        status, headers, body = post(server, CHAT, chat(), {"Authorization": ""})
        assert assert_error(status, headers, body, 401)["type"] == "invalid_request_error"
        status, headers, body = post(server, CHAT, chat(), {"Authorization": "Bearer nope"})
        assert assert_error(status, headers, body, 401)["code"] == "invalid_api_key"
        status, _, _ = post(server, CHAT, chat(), {"Authorization": "Bearer secret"})
        assert status == 200
    with FakeServer() as server:
        status, headers, body = post(server, CHAT, chat(), {"Authorization": "Basic abc"})
        assert_error(status, headers, body, 401)
        assert post(server, CHAT, chat(), {"Authorization": "Bearer anything"})[0] == 200


def test_unknown_model_is_openais_404() -> None:
    with FakeServer(models=["m", "m2"]) as server:
        status, headers, body = post(server, CHAT, chat(model="nope"))
        error = assert_error(status, headers, body, 404)
        assert (error["code"], error["type"]) == ("model_not_found", "invalid_request_error")
        assert (
            error["message"] == "The model `nope` does not exist or you do not have access to it."
        )
        for path, payload in [
            ("/v1/completions", {"model": "nope", "prompt": "p"}),
            ("/v1/responses", {"model": "nope", "input": "p", "stream": True}),
        ]:
            assert post(server, path, payload)[0] == 404
        assert post(server, CHAT, chat(model="m2"))[0] == 200
    with pytest.raises(TypeError, match="collection"):
        FakeServer(models="m")


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (CHAT, b"not json", None),
        (CHAT, b"[1, 2]", None),
        (CHAT, b"", None),
        (CHAT, {"messages": [{"role": "user", "content": "x"}]}, "model"),
        (CHAT, {"model": "m"}, "messages"),
        (CHAT, {"model": "m", "messages": []}, "messages"),
        (CHAT, {"model": "m", "messages": "hi"}, "messages"),
        (CHAT, chat(max_tokens=0), "max_tokens"),
        (CHAT, chat(n="2"), "n"),
        (CHAT, chat(stream="yes"), "stream"),
        (COMPLETIONS, {"model": "m"}, "prompt"),
        (COMPLETIONS, {"model": "m", "prompt": {"a": 1}}, "prompt"),
        (RESPONSES, {"model": "m"}, "input"),
        (RESPONSES, {"model": "m", "input": 3}, "input"),
        (RESPONSES, {"input": "x"}, "model"),
    ],
)
def test_validation_errors(server: FakeServer, path: str, body: Any, param: str | None) -> None:
    status, headers, data = post(server, path, body)
    error = assert_error(status, headers, data, 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_unknown_path_and_wrong_method(server: FakeServer) -> None:
    status, headers, body = post(server, "/v1/nope", chat())
    assert assert_error(status, headers, body, 404)["code"] == "unknown_url"
    status, headers, body = post(server, "/v2/chat/completions", chat())
    assert_error(status, headers, body, 404)
    status, headers, body = post(server, CHAT, b"", method="GET")
    assert_error(status, headers, body, 405)
    assert headers["allow"] == "POST"


def test_request_ids_count_up(server: FakeServer) -> None:
    ids = [post(server, CHAT, chat())[1]["x-request-id"] for _ in range(3)]
    assert ids == ["req_1", "req_2", "req_3"]


def test_malformed_request_line_gets_400_and_close(server: FakeServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        line, headers, _ = split_response(read_to_eof(sock))
    assert line.startswith("HTTP/1.1 400") and headers["connection"] == "close"


# ------------------------------------------------------------------------ connections


def test_keep_alive_reuses_one_connection(server: FakeServer) -> None:
    conn = connect(server)
    try:
        for i in range(100):
            body = chat(str(i), stream=bool(i % 2))
            conn.request("POST", CHAT, json.dumps(body), AUTH)
            res = conn.getresponse()
            assert res.status == 200 and res.read()
    finally:
        conn.close()
    assert server.connections_opened == 1
    assert len(server.requests) == 100


def test_connection_close_is_honoured(server: FakeServer) -> None:
    with raw_request(server, CHAT, chat(), {"Connection": "close"}) as sock:
        line, headers, body = split_response(read_to_eof(sock))
    assert line.startswith("HTTP/1.1 200") and headers["connection"] == "close"
    assert json.loads(body)["object"] == "chat.completion"


def test_pipelined_chunked_and_expect_continue(server: FakeServer) -> None:
    payload = json.dumps(chat("piped")).encode()
    one = (
        f"POST {CHAT} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    chunked = (
        (
            f"POST {CHAT} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            f"{len(payload[:10]):x}\r\n"
        ).encode()
        + payload[:10]
        + f"\r\n{len(payload[10:]):x}\r\n".encode()
        + payload[10:]
    )
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(one + chunked + b"\r\n0\r\n\r\n")
        raw = read_to_eof(sock)
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert raw.count(b"Hello! You said: piped") == 2
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        head = (
            f"POST {CHAT} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            f"Content-Length: {len(payload)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(payload)
        assert read_to_eof(sock).startswith(b"HTTP/1.1 200")
    assert server.connections_opened == 2


def test_http10_stream_is_not_chunked(server: FakeServer) -> None:
    payload = json.dumps(chat("old", stream=True)).encode()
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        head = f"POST {CHAT} HTTP/1.0\r\nAuthorization: Bearer k\r\nContent-Length: {len(payload)}"
        sock.sendall(head.encode() + b"\r\n\r\n" + payload)
        _, headers, body = split_response(read_to_eof(sock))
    assert "transfer-encoding" not in headers and headers["connection"] == "close"
    assert data_events(body)[-1] == "[DONE]"


def test_recorded_requests_and_reset_stats(server: FakeServer) -> None:
    post(server, CHAT + "?trace=1", chat("rec"), {"X-Trace": "t1"})
    post(server, COMPLETIONS, b"not json")
    first, second = server.requests
    assert first.method == "POST" and first.path == CHAT and first.query == "trace=1"
    assert first.headers["x-trace"] == "t1"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.json == chat("rec") and json.loads(first.body) == chat("rec")
    assert second.json is None and second.body == b"not json"
    assert server.connections_opened == 2
    server.reset_stats()
    assert server.requests == [] and server.connections_opened == 0


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = FakeServer(host="::1").start()
    except OSError:
        pytest.skip("::1 not available")
    with server:
        assert server.url == f"http://[::1]:{server.port}/v1"
        conn = http.client.HTTPConnection("::1", server.port, timeout=TIMEOUT)
        try:
            conn.request("POST", CHAT, json.dumps(chat()), AUTH)
            assert conn.getresponse().status == 200
        finally:
            conn.close()


def test_only_loopback_and_lifecycle() -> None:
    with pytest.raises(ValueError):
        FakeServer(host="0.0.0.0")
    server = FakeServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    with pytest.raises(RuntimeError):
        server.start()
    server.close()
    server.close()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection((server.host, server.port), timeout=TIMEOUT).close()


def test_twenty_thousand_chunk_stream_arrives_whole(server: FakeServer) -> None:
    # How fast is measured in benchmarks/ (the server's headroom), never asserted here.
    _, _, body = post(server, CHAT, chat("hi", stream=True, max_tokens=20_000))
    assert len(data_events(body)) == 20_000 + 3


# ------------------------------------------------------------------------ faults: parsing


def test_fault_parse() -> None:
    assert Fault.parse("status=503,retry_after=1") == Fault(status=503, retry_after="1")
    assert Fault.parse(" Status=429 , retry-after-ms=250,close") == Fault(
        status=429, retry_after_ms=250, close=True
    )
    assert Fault.parse("gzip,crlf=false,stall_seconds=0.5") == Fault(gzip=True, stall_seconds=0.5)
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert Fault.parse(f"status=503,retry_after={date},no_done").retry_after == date
    assert Fault.parse("") == Fault()
    for bad in ("nope=1", "status=abc", "status=99", "body=xml", "gzip=maybe", "cut_after=-1"):
        with pytest.raises(ValueError):
            Fault.parse(bad)
    with pytest.raises(ValueError):
        Fault(stall_seconds=float("inf"))


@given(
    st.builds(
        Fault,
        status=st.none() | st.integers(200, 599),
        body=st.sampled_from(["json", "html", "text", "empty"]),
        retry_after=st.none() | st.sampled_from(["1", "0.5", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        cut_after=st.none() | st.integers(0, 100),
        stall_seconds=st.floats(0, 100),
        hold_after_done=st.none() | st.floats(0, 10),
        reset=st.booleans(),
        gzip=st.booleans(),
    )
)
def test_fault_header_round_trip(fault: Fault) -> None:
    assert Fault.parse(fault.to_header()) == fault


def test_bad_fault_header_is_a_400(server: FakeServer) -> None:
    status, headers, body = post(server, CHAT, chat(), {"X-R9S-Fault": "explode"})
    assert assert_error(status, headers, body, 400)["param"] == "x-r9s-fault"


# ------------------------------------------------------------------------ faults: behaviour


def test_status_fault_with_retry_headers(server: FakeServer) -> None:
    server.add_fault(Fault(status=503, retry_after=1, retry_after_ms=1500))
    status, headers, body = post(server, CHAT, chat())
    error = assert_error(status, headers, body, 503)
    assert error["type"] == "server_error"
    assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "1500"
    assert post(server, CHAT, chat())[0] == 200


@pytest.mark.parametrize(
    ("kind", "content_type", "marker"),
    [
        ("html", "text/html", b"<center><h1>503 Service Temporarily Unavailable</h1></center>"),
        ("text", "text/plain; charset=utf-8", b"503 Service Temporarily Unavailable\n"),
        ("empty", None, b""),
    ],
)
def test_status_fault_bodies(
    server: FakeServer, kind: str, content_type: str | None, marker: bytes
) -> None:
    status, headers, body = post(server, CHAT, chat(), {"X-R9S-Fault": f"status=503,body={kind}"})
    assert status == 503
    assert headers.get("content-type") == content_type
    assert marker in body if marker else body == b""


def test_fault_queue_fifo_and_header_priority(server: FakeServer) -> None:
    server.add_fault(Fault(status=500), times=2)
    server.add_fault("status=429")
    # The header wins and leaves the queue untouched.
    assert post(server, CHAT, chat(), {"X-R9S-Fault": "status=502"})[0] == 502
    statuses = [post(server, CHAT, chat())[0] for _ in range(4)]
    assert statuses == [500, 500, 429, 200]
    server.add_fault(Fault(status=500))
    server.clear_faults()
    assert post(server, CHAT, chat())[0] == 200
    with pytest.raises(ValueError):
        server.add_fault(Fault(), times=0)


@pytest.mark.parametrize("path", [CHAT, COMPLETIONS])
def test_stream_error_after(server: FakeServer, path: str) -> None:
    request = (
        chat("hi", stream=True, max_tokens=8)
        if path == CHAT
        else {"model": "m", "prompt": "p", "stream": True, "max_tokens": 8}
    )
    status, _, body = post(server, path, request, {"X-R9S-Fault": "stream_error_after=3"})
    assert status == 200
    events = data_events(body)
    assert len(events) == (5 if path == CHAT else 4)  # (role chunk +) 3 pieces + error
    assert json.loads(events[-1]) == {
        "error": {"message": "overloaded", "type": "server_error", "code": 503}
    }
    assert "[DONE]" not in events


def test_stream_error_after_in_responses(server: FakeServer) -> None:
    request = {"model": "m", "input": "hi", "stream": True}
    _, _, body = post(server, RESPONSES, request, {"X-R9S-Fault": "stream_error_after=2"})
    events = typed_events(body)
    assert [name for name, _ in events][-3:] == [
        "response.output_text.delta",
        "response.output_text.delta",
        "error",
    ]
    assert events[-1][1] == {
        "type": "error",
        "code": "server_error",
        "message": "overloaded",
        "sequence_number": len(events) - 1,
    }


def test_cut_after_aborts_without_terminator(server: FakeServer) -> None:
    request = chat("hi", stream=True, max_tokens=8)
    with raw_request(server, CHAT, request, {"X-R9S-Fault": "cut_after=2"}) as sock:
        raw = read_to_eof(sock)
    _, _, body = split_response(raw)
    chunks, terminated = dechunk(body)
    assert not terminated
    events = data_events(b"".join(chunks))
    assert len(events) == 3  # role chunk + 2 content chunks
    # Non-stream: half a body, then close.
    with raw_request(server, CHAT, chat(), {"X-R9S-Fault": "cut_after=0"}) as sock:
        _, headers, body = split_response(read_to_eof(sock))
    assert len(body) < int(headers["content-length"])


def test_stall_before_status_line_ends_on_close() -> None:
    server = FakeServer().start()
    try:
        sock = raw_request(server, CHAT, chat(), {"X-R9S-Fault": "stall_after=0,stall_seconds=30"})
        with sock:
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(100)
            started = time.monotonic()
            server.close()
            assert time.monotonic() - started < 1.0
            sock.settimeout(TIMEOUT)
            assert read_to_eof(sock) == b""
    finally:
        server.close()


def test_close_ends_stalled_stream_and_idle_connections_promptly() -> None:
    server = FakeServer().start()
    try:
        idle = connect(server)
        idle.request("POST", CHAT, json.dumps(chat()), AUTH)
        idle.getresponse().read()  # now an idle keep-alive connection
        request = chat("hi", stream=True, max_tokens=8)
        sock = raw_request(server, CHAT, request, {"X-R9S-Fault": "stall_after=2,stall_seconds=30"})
        with sock:
            sock.settimeout(TIMEOUT)
            received = b""
            while received.count(b"data: ") < 3:
                received += sock.recv(65536)
            sock.settimeout(0.2)
            with pytest.raises(TimeoutError):
                sock.recv(100)
            started = time.monotonic()
            server.close()
            assert time.monotonic() - started < 1.0
            sock.settimeout(TIMEOUT)
            rest = read_to_eof(sock)
        _, _, body = split_response(received + rest)
        chunks, terminated = dechunk(body)
        assert not terminated and len(data_events(b"".join(chunks))) == 3
        assert idle.sock is not None
        idle.sock.settimeout(TIMEOUT)
        assert idle.sock.recv(10) == b""
        idle.close()
    finally:
        server.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("r9s-testing")]


def test_standard_library_only() -> None:
    package = Path(r9s.testing.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("r9s.testing"), (
                    f"{source.name} imports {name}"
                )


def test_invalid_json(server: FakeServer) -> None:
    status, headers, body = post(server, CHAT, chat(), {"X-R9S-Fault": "invalid_json"})
    assert status == 200 and headers["content-type"] == "application/json"
    assert body == b'{"id": oops'
    _, _, body = post(server, CHAT, chat(stream=True), {"X-R9S-Fault": "invalid_json"})
    events = data_events(body)
    assert "{bad json" in events and events[-1] == "[DONE]"


def test_short_body(server: FakeServer) -> None:
    conn = connect(server)
    try:
        conn.request("POST", CHAT, json.dumps(chat()), {**AUTH, "X-R9S-Fault": "short_body"})
        res = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            res.read()
    finally:
        conn.close()


def test_no_done(server: FakeServer) -> None:
    with raw_request(server, CHAT, chat(stream=True), {"X-R9S-Fault": "no_done,close"}) as sock:
        _, headers, body = split_response(read_to_eof(sock))
    chunks, terminated = dechunk(body)
    assert terminated and headers["connection"] == "close"
    events = data_events(b"".join(chunks))
    assert "[DONE]" not in events
    assert json.loads(events[-1])["choices"][0]["finish_reason"] == "stop"


def test_hold_after_done(server: FakeServer) -> None:
    fault = {"X-R9S-Fault": "hold_after_done=0.3"}
    with raw_request(server, CHAT, chat(stream=True), fault) as sock:
        received = b""
        while b"data: [DONE]" not in received:
            received += sock.recv(65536)
        done_at = time.monotonic()
        while not received.endswith(b"0\r\n\r\n"):
            received += sock.recv(65536)
        assert time.monotonic() - done_at >= 0.25
    _, _, body = split_response(received)
    assert dechunk(body)[1]


def test_big_event(server: FakeServer) -> None:
    _, _, body = post(server, CHAT, chat(stream=True), {"X-R9S-Fault": "big_event=5000"})
    events = data_events(body)
    assert [len(e) for e in events].count(5000) == 1
    big = json.loads(next(e for e in events if len(e) == 5000))
    assert big["choices"][0]["delta"]["content"] == "x" * len(big["choices"][0]["delta"]["content"])
    request = {"model": "m", "input": "hi", "stream": True}
    _, _, body = post(server, RESPONSES, request, {"X-R9S-Fault": "big_event=3000"})
    typed = typed_events(body)
    assert [d["sequence_number"] for _, d in typed] == list(range(len(typed)))
    deltas = "".join(d["delta"] for name, d in typed if name == "response.output_text.delta")
    assert deltas.endswith("Hello! You said: hi") and deltas.startswith("xxx")
    assert typed[-1][1]["response"]["output"][0]["content"][0]["text"] == deltas
    sizes = [len(line[6:]) for line in body.decode().split("\n") if line.startswith("data: ")]
    assert 3000 in sizes


def test_reset(server: FakeServer) -> None:
    with raw_request(server, CHAT, chat(), {"X-R9S-Fault": "reset"}) as sock:
        with pytest.raises(ConnectionResetError):
            read_to_eof(sock)
    assert len(server.requests) == 1


def test_close_fault(server: FakeServer) -> None:
    with raw_request(server, CHAT, chat(), {"X-R9S-Fault": "close"}) as sock:
        _, headers, body = split_response(read_to_eof(sock))
    assert headers["connection"] == "close" and json.loads(body)["choices"]


def test_delay_ms_spaces_events(server: FakeServer) -> None:
    start = time.monotonic()
    status, _, body = post(
        server, CHAT, chat(stream=True, max_tokens=3), {"X-R9S-Fault": "delay_ms=40"}
    )
    # role + 3 pieces + finish + [DONE]: five gaps.
    assert status == 200 and time.monotonic() - start >= 0.19
    assert data_events(body)[-1] == "[DONE]"


def test_gzip_stream_decodes_event_by_event() -> None:
    with FakeServer(gzip=True) as server:
        status, headers, body = post(server, CHAT, chat(), {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert json.loads(zlib.decompress(body, wbits=31))["object"] == "chat.completion"
        _, headers, body = post(server, CHAT, chat(), {"Accept-Encoding": "identity"})
        assert "content-encoding" not in headers and json.loads(body)
    with FakeServer() as server:
        fault = {"X-R9S-Fault": "gzip,delay_ms=1,close", "Accept-Encoding": "gzip, deflate"}
        with raw_request(server, CHAT, chat("zip", stream=True), fault) as sock:
            _, headers, body = split_response(read_to_eof(sock, limit=TIMEOUT))
        assert headers["content-encoding"] == "gzip"
        chunks, terminated = dechunk(body)
        assert terminated
        decoder = zlib.decompressobj(wbits=31)
        decoded = [decoder.decompress(chunk) for chunk in chunks]
        # Every chunk but the gzip trailer decodes on its own to whole events.
        events = [d for d in decoded if d]
        assert all(e.startswith(b"data: ") and e.endswith(b"\n\n") for e in events)
        assert [e.count(b"data: ") for e in events] == [1] * 7
        assert decoder.eof


def test_gzip_batched_stream(server: FakeServer) -> None:
    fault = {"X-R9S-Fault": "gzip", "Accept-Encoding": "gzip"}
    _, headers, body = post(server, CHAT, chat(stream=True, max_tokens=3000), fault)
    assert headers["content-encoding"] == "gzip"
    assert len(data_events(zlib.decompress(body, wbits=31))) == 3003


def test_crlf(server: FakeServer) -> None:
    _, _, body = post(server, CHAT, chat(stream=True), {"X-R9S-Fault": "crlf"})
    assert body.endswith(b"data: [DONE]\r\n\r\n") and b"\n\n" not in body.replace(b"\r\n", b"")
    assert len(data_events(body)) == 7


# ------------------------------------------------------------------------ command line


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_command_line_serves_until_sigterm() -> None:
    root = Path(r9s.testing.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "r9s.testing", "--port", "0", "--api-key", "k", "--models", "m, m2"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=root,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("r9s test server listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            for model, status in [("m", 200), ("m2", 200), ("other", 404)]:
                conn.request(
                    "POST", CHAT, json.dumps(chat(model=model)), {"Authorization": "Bearer k"}
                )
                res = conn.getresponse()
                res.read()
                assert res.status == status
        finally:
            conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
