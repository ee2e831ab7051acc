"""The built-in server's Anthropic Messages API (``POST /v1/messages``), over loopback with
``http.client`` and raw sockets: shapes, tool use and thinking, the stream's events in order,
Anthropic-shaped errors, and the faults (error event after N deltas, no ``message_stop``, a
connection held open after it, a cut).

Nothing here is timed; every socket read has a timeout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _fake_wire import dechunk, raw_request, read_to_eof, read_until, request, split_response, typed

from r9s.testing import FakeServer, Fault

MESSAGES = "/v1/messages"
KEY = {"x-api-key": "sk-ant-test"}
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
            "precise": {"type": "boolean"},
            "lat": {"type": ["number", "null"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "where": {"type": "object", "properties": {"country": {"type": "string"}}},
        },
        "required": ["city"],
    },
}
STOCK = {
    "name": "get_stock_price",
    "input_schema": {"type": "object", "properties": {"ticker": {"type": "string"}}},
}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def message(text: Any = "Hello, Claude!", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4.5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def create(server: FakeServer, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    status, got, data = request(server, MESSAGES, body, {**KEY, **(headers or {})})
    assert status == 200, data
    assert got["content-type"] == "application/json"
    return json.loads(data)


def stream(
    server: FakeServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> list[tuple[str | None, dict[str, Any]]]:
    status, got, data = request(
        server, MESSAGES, {**body, "stream": True}, {**KEY, **(headers or {})}
    )
    assert status == 200, data
    assert got["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in data
    events = typed(data)
    for name, doc in events:
        assert name == doc["type"]
    return events


def anthropic_error(status: int, data: bytes, expected: int, kind: str) -> str:
    assert status == expected, data
    doc = json.loads(data)
    assert doc["type"] == "error"
    assert set(doc["error"]) == {"type", "message"}
    assert doc["error"]["type"] == kind
    message: str = doc["error"]["message"]
    return message


def joined(events: list[tuple[str | None, dict[str, Any]]]) -> dict[int, dict[str, Any]]:
    """Each block of a stream rebuilt from its start and deltas."""
    blocks: dict[int, dict[str, Any]] = {}
    json_text: dict[int, str] = {}
    for name, doc in events:
        if name == "content_block_start":
            blocks[doc["index"]] = dict(doc["content_block"])
        elif name == "content_block_delta":
            block, delta = blocks[doc["index"]], doc["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] += delta["signature"]
            else:
                assert delta["type"] == "input_json_delta"
                json_text[doc["index"]] = json_text.get(doc["index"], "") + delta["partial_json"]
    for index, text in json_text.items():
        blocks[index]["input"] = json.loads(text)
    return blocks


# ----------------------------------------------------------------------------- not streamed


def test_message_shape(server: FakeServer) -> None:
    body = message([{"type": "text", "text": "Hello, Claude!"}], system="Be brief.")
    doc = create(server, body)
    assert doc == {
        "id": "msg_00000001",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4.5",
        "content": [{"type": "text", "text": "Hello! You said: Hello, Claude!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 4,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 5,
        },
    }


def test_bearer_token_works_too(server: FakeServer) -> None:
    status, _, _ = request(server, MESSAGES, message(), {"Authorization": "Bearer k"})
    assert status == 200


def test_multi_turn_answers_the_last_user_turn(server: FakeServer) -> None:
    body = message("first")
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "text", "text": "an answer"}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "second"}, {"type": "image", "source": {}}],
        },
    ]
    assert create(server, body)["content"][0]["text"] == "Hello! You said: second"


def test_max_tokens_and_stop_sequences(server: FakeServer) -> None:
    doc = create(server, message("one two three four", max_tokens=3))
    assert doc["content"][0]["text"] == "Hello! You said:"
    assert (doc["stop_reason"], doc["usage"]["output_tokens"]) == ("max_tokens", 3)
    doc = create(server, message("count 1 to 10", stop_sequences=["zzz", "10", " to"]))
    assert doc["content"][0]["text"] == "Hello! You said: count 1"
    assert (doc["stop_reason"], doc["stop_sequence"]) == ("stop_sequence", " to")


def test_tool_use_when_the_user_mentions_a_tool(server: FakeServer) -> None:
    doc = create(server, message("What's the weather in Zürich?", tools=[STOCK, WEATHER]))
    assert doc["stop_reason"] == "tool_use"
    (block,) = doc["content"]
    assert block["type"] == "tool_use" and block["name"] == "get_weather"
    assert block["id"].startswith("toolu_")
    assert block["input"] == {
        "city": "What's the weather in Zürich?",
        "unit": "celsius",
        "days": 1,
        "precise": True,
        "lat": 1.5,
        "tags": ["What's the weather in Zürich?"],
        "where": {"country": "What's the weather in Zürich?"},
    }


def test_parallel_tool_calls_and_word_mentions(server: FakeServer) -> None:
    text = "What's the stock price of Apple and the weather in Tokyo?"
    doc = create(server, message(text, tools=[STOCK, WEATHER]))
    assert [b["name"] for b in doc["content"]] == ["get_stock_price", "get_weather"]
    assert len({b["id"] for b in doc["content"]}) == 2


def test_tool_choice(server: FakeServer) -> None:
    tools = [STOCK, WEATHER]
    forced = create(
        server, message("hi", tools=tools, tool_choice={"type": "tool", "name": "get_weather"})
    )
    assert [b["name"] for b in forced["content"]] == ["get_weather"]
    anything = create(server, message("hi", tools=tools, tool_choice={"type": "any"}))
    assert [b["name"] for b in anything["content"]] == ["get_stock_price"]
    none = create(server, message("the weather?", tools=tools, tool_choice={"type": "none"}))
    assert none["stop_reason"] == "end_turn" and none["content"][0]["type"] == "text"
    plain = create(server, message("hello", tools=tools))
    assert plain["content"][0]["type"] == "text"
    status, _, data = request(
        server,
        MESSAGES,
        message("hi", tools=tools, tool_choice={"type": "tool", "name": "nope"}),
        KEY,
    )
    assert "nope" in anthropic_error(status, data, 400, "invalid_request_error")


def test_tool_result_turn_answers_with_text(server: FakeServer) -> None:
    first = create(server, message("the weather?", tools=[WEATHER]))
    call = first["content"][0]
    body = message("the weather?", tools=[WEATHER])
    body["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny, 21 C"}
            ],
        },
    ]
    doc = create(server, body)
    assert doc["stop_reason"] == "end_turn"
    assert doc["content"] == [{"type": "text", "text": "Hello! You said: Sunny, 21 C"}]


def test_thinking_block_comes_first(server: FakeServer) -> None:
    doc = create(server, message("a puzzle", thinking={"type": "enabled", "budget_tokens": 1000}))
    thinking, text = doc["content"]
    assert thinking["type"] == "thinking" and "a puzzle" in thinking["thinking"]
    assert thinking["signature"]
    assert text == {"type": "text", "text": "Hello! You said: a puzzle"}
    assert create(server, message("a puzzle", thinking={"type": "disabled"}))["content"] == [text]


# ----------------------------------------------------------------------------- streamed


def test_stream_event_order(server: FakeServer) -> None:
    events = stream(server, message("one two three"))
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 6,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 3
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": 6}
    assert joined(events) == {0: {"type": "text", "text": "Hello! You said: one two three"}}
    assert events[-1][1] == {"type": "message_stop"}


def test_stream_equals_the_message(server: FakeServer) -> None:
    for body in (
        message("Weather in Zürich 😀?", tools=[WEATHER], thinking={"type": "enabled"}),
        message("plain text", thinking={"type": "enabled", "budget_tokens": 2000}),
        message("stock and weather", tools=[STOCK, WEATHER]),
    ):
        whole = create(server, body)
        events = stream(server, body)
        blocks = joined(events)
        for block in (*blocks.values(), *whole["content"]):
            if block["type"] == "tool_use":
                assert block.pop("id").startswith("toolu_")
        assert [blocks[i] for i in sorted(blocks)] == whole["content"]
        assert events[-2][1]["delta"]["stop_reason"] == whole["stop_reason"]
        assert events[-2][1]["usage"]["output_tokens"] == whole["usage"]["output_tokens"]


def test_stream_thinking_then_signature(server: FakeServer) -> None:
    events = stream(server, message("think", thinking={"type": "enabled"}))
    kinds = [
        doc["delta"]["type"]
        for name, doc in events
        if name == "content_block_delta" and doc["index"] == 0
    ]
    assert kinds[-1] == "signature_delta"
    assert set(kinds[:-1]) == {"thinking_delta"}
    assert events[1][1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}


def test_tool_input_json_is_split_inside_a_non_ascii_character(server: FakeServer) -> None:
    events = stream(server, message("Weather in Zürich 😀?", tools=[WEATHER]))
    start = events[1][1]["content_block"]
    assert start["input"] == {} and start["name"] == "get_weather"
    pieces = [doc["delta"]["partial_json"] for name, doc in events if name == "content_block_delta"]
    assert pieces[0] == ""
    assert len(pieces) >= 5
    # "ü" goes out as its escape, cut in two: neither piece parses alone, the join does.
    (cut,) = [i for i, piece in enumerate(pieces) if piece.endswith(("\\u0", "\\u00"))]
    assert pieces[cut + 1].startswith(("0fc", "fc"))
    assert json.loads("".join(pieces))["city"] == "Weather in Zürich 😀?"
    # The other non-ASCII text goes out as it is, in UTF-8.
    assert any("😀" in piece for piece in pieces)


def test_long_stream(server: FakeServer) -> None:
    words = " ".join(f"w{i}" for i in range(20_000))
    events = stream(server, message(words, max_tokens=100_000))
    deltas = [doc for name, doc in events if name == "content_block_delta"]
    assert len(deltas) == 20_003
    assert joined(events)[0]["text"] == "Hello! You said: " + words


# ----------------------------------------------------------------------------- errors


def test_unknown_model_is_an_anthropic_404() -> None:
    with FakeServer(models=["claude-haiku-4.5"]) as server:
        status, _, data = request(server, MESSAGES, message(model="claude-9"), KEY)
        assert anthropic_error(status, data, 404, "not_found_error") == "model: claude-9"
        status, _, data = request(server, MESSAGES, message(model="claude-9", stream=True), KEY)
        assert anthropic_error(status, data, 404, "not_found_error") == "model: claude-9"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "system", "content": "x"}]}, "role"),
        ({"model": "m", "messages": [{"role": "assistant", "content": "x"}]}, "first message"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "content"),
        ({**message(), "max_tokens": 0}, "max_tokens"),
        ({**message(), "stream": "yes"}, "stream"),
        ({**message(), "stop_sequences": "x"}, "stop_sequences"),
        ({**message(), "tools": [{"name": "t"}]}, "input_schema"),
        ({**message(), "tool_choice": {"type": "maybe"}}, "tool_choice"),
        ({**message(), "thinking": {"type": "deep"}}, "thinking"),
        ({**message(), "temperature": "hot"}, "temperature"),
    ],
)
def test_validation_errors(server: FakeServer, body: dict[str, Any], needle: str) -> None:
    status, _, data = request(server, MESSAGES, body, KEY)
    assert needle in anthropic_error(status, data, 400, "invalid_request_error")


def test_protocol_errors_are_anthropic_shaped(server: FakeServer) -> None:
    status, _, data = request(
        server, MESSAGES, b"{not json", {**KEY, "Content-Type": "application/json"}
    )
    anthropic_error(status, data, 400, "invalid_request_error")
    status, headers, data = request(server, MESSAGES, None, KEY, method="GET")
    anthropic_error(status, data, 405, "invalid_request_error")
    assert headers["allow"] == "POST"
    status, _, data = request(server, MESSAGES, message(), {"Authorization": ""})
    assert "x-api-key" in anthropic_error(status, data, 401, "authentication_error")
    status, _, data = request(server, MESSAGES, message(), {**KEY, "X-R9S-Fault": "bogus"})
    anthropic_error(status, data, 400, "invalid_request_error")


def test_wrong_key() -> None:
    with FakeServer(api_key="right") as server:
        status, _, data = request(
            server, MESSAGES, message(), {"x-api-key": "wrong", "Authorization": ""}
        )
        assert anthropic_error(status, data, 401, "authentication_error") == "invalid x-api-key"
        status, _, data = request(
            server, MESSAGES, message(), {"x-api-key": "right", "Authorization": ""}
        )
        assert status == 200


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (404, "not_found_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_status_faults_are_anthropic_shaped(server: FakeServer, status: int, kind: str) -> None:
    server.add_fault(Fault(status=status, retry_after=3))
    got, headers, data = request(server, MESSAGES, message(stream=True), KEY)
    anthropic_error(got, data, status, kind)
    assert headers["retry-after"] == "3"


def test_status_fault_line_for_529(server: FakeServer) -> None:
    body = json.dumps(message()).encode()
    with raw_request(server, MESSAGES, body, {**KEY, "X-R9S-Fault": "status=529,close"}) as sock:
        status_line, _, data = split_response(read_to_eof(sock))
    assert status_line == "HTTP/1.1 529 Overloaded"
    assert json.loads(data)["error"] == {"type": "overloaded_error", "message": "Overloaded"}


# ----------------------------------------------------------------------------- stream faults


def test_error_event_after_n_deltas(server: FakeServer) -> None:
    events = stream(server, message("one two three four"), {"X-R9S-Fault": "stream_error_after=3"})
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "error",
    ]
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    events = stream(server, message("hi"), {"X-R9S-Fault": "stream_error_after=0"})
    assert [name for name, _ in events] == ["error"]


def test_error_event_counts_every_kind_of_delta(server: FakeServer) -> None:
    body = message("weather", tools=[WEATHER], thinking={"type": "enabled"})
    events = stream(server, body, {"X-R9S-Fault": "stream_error_after=7"})
    assert [name for name, _ in events].count("content_block_delta") == 7
    assert events[-1][0] == "error"


def test_no_done_leaves_out_message_stop(server: FakeServer) -> None:
    events = stream(server, message("hi"), {"X-R9S-Fault": "no_done"})
    assert [name for name, _ in events][-2:] == ["content_block_stop", "message_delta"]


def test_cut_after_ends_without_message_stop(server: FakeServer) -> None:
    body = json.dumps(message("one two three", stream=True)).encode()
    with raw_request(server, MESSAGES, body, {**KEY, "X-R9S-Fault": "cut_after=2"}) as sock:
        _, _, raw = split_response(read_to_eof(sock))
    payload, terminated = dechunk(raw)
    assert not terminated
    names = [name for name, _ in typed(payload)]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
    ]


def test_hold_after_done_keeps_the_stream_open_after_message_stop(server: FakeServer) -> None:
    body = json.dumps(message("hi", stream=True)).encode()
    with raw_request(server, MESSAGES, body, {**KEY, "X-R9S-Fault": "hold_after_done=0.3"}) as sock:
        received = read_until(sock, b'data: {"type":"message_stop"}\n\n')
        stop_at = time.monotonic()
        assert not received.endswith(b"0\r\n\r\n")
        received = read_until(sock, b"\r\n0\r\n\r\n", received)
        # The terminating chunk came late: the hold, not the network, kept it.
        assert time.monotonic() - stop_at >= 0.25
    _, headers, raw = split_response(received)
    payload, terminated = dechunk(raw)
    assert terminated and "connection" not in headers
    assert typed(payload)[-1][0] == "message_stop"


def test_stall_and_crlf_and_big_event(server: FakeServer) -> None:
    body = json.dumps(message("one two", stream=True)).encode()
    with raw_request(
        server, MESSAGES, body, {**KEY, "X-R9S-Fault": "stall_after=1,stall_seconds=0.2"}
    ) as sock:
        payload, terminated = dechunk(split_response(read_to_eof(sock))[2])
    assert not terminated
    assert [name for name, _ in typed(payload)][-1] == "content_block_delta"
    status, _, data = request(server, MESSAGES, json.loads(body), {**KEY, "X-R9S-Fault": "crlf"})
    assert status == 200
    assert b"event: message_stop\r\ndata: " in data and b"\n\n" not in data.replace(b"\r\n", b"")
    status, _, data = request(
        server, MESSAGES, json.loads(body), {**KEY, "X-R9S-Fault": "big_event=5000"}
    )
    assert status == 200
    padded = [line for line in data.split(b"\n") if len(line) > 4000]
    assert len(padded) == 1 and len(padded[0]) == len(b"data: ") + 5000


def test_invalid_json_event(server: FakeServer) -> None:
    status, _, data = request(
        server, MESSAGES, message("hi", stream=True), {**KEY, "X-R9S-Fault": "invalid_json"}
    )
    assert status == 200
    assert b"event: content_block_delta\ndata: {bad json\n\n" in data
