"""The Messages API stream (Anthropic's dialect of server-sent events): bytes in, events and a
final ``Message`` out, no sockets."""

from __future__ import annotations

import gzip
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s import errors
from r9s._core.accumulate import MessagesAccumulator, accumulator_for, text_of
from r9s._core.classify import error_for_status, finish
from r9s._core.headers import Headers
from r9s._core.retry import retry_delay
from r9s._core.sse import SSEDecoder
from r9s._core.stream import ANTHROPIC, OPENAI, StreamDecoder, decoder_for, dialect_of
from r9s.models.chat import ChatCompletionChunk
from r9s.models.messages import (
    AnthropicContentBlockDelta,
    AnthropicMessageResponse,
    AnthropicPing,
    AnthropicStreamEvent,
    AnthropicTextContent,
    AnthropicToolContent,
    AnthropicToolUseContent,
    ContentBlock,
    CreateMessageResponse,
    Message,
    MessageStreamEvent,
)
from r9s.streaming import EventStream
from r9s.utils import BackoffStrategy, RetryConfig

SSE = Headers({"content-type": "text/event-stream", "x-request-id": "req_msg_7"})
JSON = Headers({"content-type": "application/json", "x-request-id": "req_msg_8"})


def frame(kind: str | None, data: dict[str, Any] | str) -> bytes:
    """One event as a server writes it: UTF-8 left raw, so byte splits can cut a character."""
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {kind}\n" if kind is not None else ""
    return f"{head}data: {body}\n\n".encode()


def ev(kind: str, **fields: Any) -> bytes:
    return frame(kind, {"type": kind, **fields})


def delta(index: int, kind: str, **fields: Any) -> bytes:
    return ev("content_block_delta", index=index, delta={"type": kind, **fields})


MESSAGE_START = ev(
    "message_start",
    message={
        "id": "msg_01Wx7",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-sonnet-4-5",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 472,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 128,
            "output_tokens": 2,
        },
    },
)

#: A recorded answer: thinking, then text, then a tool call whose JSON arrives in pieces cut
#: anywhere: inside a ``\u00e9`` escape, and (on the wire, where split reads cut bytes) inside
#: multi-byte characters.
RECORDED_EVENTS = [
    MESSAGE_START,
    ev("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
    ev("ping"),
    delta(0, "thinking_delta", thinking="The user wants the weather in "),
    delta(0, "thinking_delta", thinking="Zürich and 東京; call the tool."),
    delta(0, "signature_delta", signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3h"),
    ev("content_block_stop", index=0),
    ev("content_block_start", index=1, content_block={"type": "text", "text": ""}),
    delta(1, "text_delta", text="Let me check "),
    ev("ping"),
    delta(1, "text_delta", text="the weather ☔ for you."),
    ev("content_block_stop", index=1),
    ev(
        "content_block_start",
        index=2,
        content_block={"type": "tool_use", "id": "toolu_01T1", "name": "get_weather", "input": {}},
    ),
    delta(2, "input_json_delta", partial_json=""),
    delta(2, "input_json_delta", partial_json='{"location": "Zür'),
    delta(2, "input_json_delta", partial_json='ich, 東京", "unit": "c'),
    delta(2, "input_json_delta", partial_json='elsius", "note": "\\u00'),
    delta(2, "input_json_delta", partial_json='e9t\\u00e9 🌧"}'),
    ev("content_block_stop", index=2),
    ev(
        "message_delta",
        delta={"stop_reason": "tool_use", "stop_sequence": None},
        usage={"output_tokens": 89},
    ),
    ev("message_stop"),
]
RECORDED = b"".join(RECORDED_EVENTS)

EXPECTED_TYPES = ["message_start", "content_block_start"]
EXPECTED_TYPES += ["content_block_delta"] * 3 + ["content_block_stop", "content_block_start"]
EXPECTED_TYPES += ["content_block_delta"] * 2 + ["content_block_stop", "content_block_start"]
EXPECTED_TYPES += ["content_block_delta"] * 5 + [
    "content_block_stop",
    "message_delta",
    "message_stop",
]

EXPECTED_MESSAGE = {
    "type": "message",
    "role": "assistant",
    "id": "msg_01Wx7",
    "model": "claude-sonnet-4-5",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "content": [
        {
            "type": "thinking",
            "thinking": "The user wants the weather in Zürich and 東京; call the tool.",
            "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h",
        },
        {"type": "text", "text": "Let me check the weather ☔ for you."},
        {
            "type": "tool_use",
            "id": "toolu_01T1",
            "name": "get_weather",
            "input": {"location": "Zürich, 東京", "unit": "celsius", "note": "été 🌧"},
        },
    ],
    "usage": {
        "input_tokens": 472,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 128,
        "output_tokens": 89,
    },
}


def decode(pieces: bytes | list[bytes], headers: Headers = SSE, **kw: Any):
    """Feed ``pieces`` like a transport (stop at the end or an error); events and decoder."""
    dec = StreamDecoder(MessageStreamEvent, 200, headers, **kw)
    out: list[Any] = []
    for piece in [pieces] if isinstance(pieces, bytes) else pieces:
        out += dec.feed(piece)
        if dec.done or dec.error:
            break
    else:
        out += dec.end()
    return out, dec


def final(events: list[Any]) -> Message:
    acc = accumulator_for(MessageStreamEvent)
    for e in events:
        acc.feed(e)
    return acc.result()


def dicts(events: list[Any]) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events]


WHOLE, _ = decode(RECORDED)
WHOLE_DICTS = dicts(WHOLE)


# -- the recorded answer, fed in every way ------------------------------------------------------


def test_recorded_stream_whole() -> None:
    out, dec = decode(RECORDED)
    assert [e.type for e in out] == EXPECTED_TYPES
    assert dec.done and dec.error is None and dec.events_received == len(EXPECTED_TYPES)
    assert all(type(e) is MessageStreamEvent for e in out)
    assert out[0].message.usage.input_tokens == 472 and out[0].message.id == "msg_01Wx7"
    assert out[1].content_block.type == "thinking"
    assert out[6].content_block.type == "text" and out[6].index == 1
    assert [e.delta.text for e in out[7:9]] == ["Let me check ", "the weather ☔ for you."]
    assert out[10].content_block.name == "get_weather"
    assert out[11].delta.partial_json == ""
    assert out[-2].delta.stop_reason == "tool_use" and out[-2].usage.output_tokens == 89
    assert final(out).to_dict() == EXPECTED_MESSAGE


def test_recorded_stream_byte_by_byte() -> None:
    out, dec = decode([RECORDED[i : i + 1] for i in range(len(RECORDED))])
    assert dicts(out) == WHOLE_DICTS and dec.done
    assert final(out).to_dict() == EXPECTED_MESSAGE


def test_recorded_stream_at_every_split_index() -> None:
    for i in range(len(RECORDED) + 1):
        out, dec = decode([RECORDED[:i], RECORDED[i:]])
        assert dicts(out) == WHOLE_DICTS, i
        assert dec.done and dec.error is None, i
        assert final(out).to_dict() == EXPECTED_MESSAGE, i


def test_split_inside_a_multibyte_character_of_the_tool_input() -> None:
    at = RECORDED.index('東京\\", \\"unit'.encode()) + 1  # after the first byte of 東
    assert RECORDED[at - 1 : at + 2] == "東".encode()
    at_emoji = RECORDED.index("🌧".encode()) + 2
    out, _ = decode([RECORDED[:at], RECORDED[at:at_emoji], RECORDED[at_emoji:]])
    assert final(out).content[2].input["location"] == "Zürich, 東京"
    assert final(out).content[2].input["note"] == "été 🌧"


def test_gzip_encoded_stream() -> None:
    body = gzip.compress(RECORDED)
    out, dec = decode(
        [body[i : i + 7] for i in range(0, len(body), 7)],
        Headers({"content-type": "text/event-stream", "content-encoding": "gzip"}),
    )
    assert dicts(out) == WHOLE_DICTS and dec.done


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(RECORDED)), max_size=60))
def test_any_chunking_gives_the_same_events_and_message(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(RECORDED)]
    out, dec = decode([RECORDED[a:b] for a, b in itertools.pairwise(bounds)])
    assert dicts(out) == WHOLE_DICTS and dec.done
    assert final(out).to_dict() == EXPECTED_MESSAGE


# -- event orders -----------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def block_streams(draw: st.DrawFn) -> tuple[list[bytes], dict[str, Any]]:
    """Up to four blocks, each streamed as start, deltas, stop; their events interleaved in
    any order that keeps each block's own order; pings anywhere."""
    per_block: list[list[bytes]] = []
    content: list[dict[str, Any]] = []
    for idx in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["text", "thinking", "tool_use"]))
        if kind == "tool_use":
            value = draw(st.dictionaries(_TEXT, _TEXT | st.integers(), max_size=3))
            raw = json.dumps(value, ensure_ascii=draw(st.booleans()))
            cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=6)))
            pieces = [raw[a:b] for a, b in itertools.pairwise([0, *cuts, len(raw)])]
            start = {"type": "tool_use", "id": f"toolu_{idx}", "name": f"tool{idx}", "input": {}}
            deltas = [delta(idx, "input_json_delta", partial_json=p) for p in pieces]
            content.append({**start, "input": value})
        else:
            pieces = draw(st.lists(_TEXT, max_size=5))
            start = {"type": kind, kind: ""}
            field = "text_delta" if kind == "text" else "thinking_delta"
            deltas = [delta(idx, field, **{kind: p}) for p in pieces]
            content.append({"type": kind, kind: "".join(pieces)})
        per_block.append(
            [
                ev("content_block_start", index=idx, content_block=start),
                *deltas,
                ev("content_block_stop", index=idx),
            ]
        )
    body: list[bytes] = []
    queues = [list(q) for q in per_block]
    while any(queues):
        q = draw(st.sampled_from([q for q in queues if q]))
        body.append(q.pop(0))
        if draw(st.booleans()) and draw(st.booleans()):
            body.append(ev("ping"))
    events = [
        MESSAGE_START,
        *body,
        ev("message_delta", delta={"stop_reason": "end_turn"}),
        ev("message_stop"),
    ]
    return events, {"content": content, "stop_reason": "end_turn"}


@settings(max_examples=150, deadline=None)
@given(block_streams(), st.lists(st.integers(0, 10_000), max_size=20))
def test_any_event_order_and_chunking_gives_the_same_message(
    stream: tuple[list[bytes], dict[str, Any]], cuts: list[int]
) -> None:
    events, expected = stream
    body = b"".join(events)
    bounds = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    out, dec = decode([body[a:b] for a, b in itertools.pairwise(bounds)])
    assert dec.done and dec.error is None
    assert all(e.type != "ping" for e in out)
    assert dec.events_received == sum(b"event: ping" not in e for e in events)
    message = final(out)
    assert message.to_dict()["content"] == expected["content"]
    assert message.stop_reason == "end_turn" and message.usage.input_tokens == 472
    texts: dict[int, str] = {}
    for e in out:
        if text_of(e) is not None:
            texts[e.index] = texts.get(e.index, "") + text_of(e)
    for idx, block in enumerate(expected["content"]):
        if block["type"] == "text" and block["text"]:
            assert texts[idx] == block["text"]


# -- errors inside the stream -----------------------------------------------------------------

ERROR_TYPES = [
    ("overloaded_error", errors.ServiceUnavailableError, 529, True),
    ("rate_limit_error", errors.RateLimitError, 429, True),
    ("invalid_request_error", errors.BadRequestError, 400, False),
    ("authentication_error", errors.AuthenticationError, 401, False),
    ("permission_error", errors.PermissionDeniedError, 403, False),
    ("not_found_error", errors.NotFoundError, 404, False),
    ("api_error", errors.InternalServerError, 500, True),
    ("request_too_large", errors.R9SDefaultError, 413, False),
    ("a_kind_added_next_year", errors.R9SDefaultError, 200, False),
]


def error_event(kind: str, message: str = "Overloaded") -> bytes:
    return ev("error", error={"type": kind, "message": message})


TEXT_PREFIX = [
    MESSAGE_START,
    ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    *[delta(0, "text_delta", text=f"w{i} ") for i in range(6)],
]


@pytest.mark.parametrize("n", [0, 1, 5])
@pytest.mark.parametrize(("kind", "cls", "status", "retryable"), ERROR_TYPES)
def test_error_event_after_n_events_raises_its_class(
    n: int, kind: str, cls: type, status: int, retryable: bool
) -> None:
    body = b"".join(TEXT_PREFIX[:n]) + error_event(kind) + b"".join(TEXT_PREFIX)
    for pieces in (body, [body[i : i + 1] for i in range(len(body))]):
        out, dec = decode(pieces)
        assert len(out) == n
        err = dec.error
        assert type(err) is cls
        assert err.status_code == status and err.retryable is retryable
        assert err.events_received == n
        assert err.message.startswith("Overloaded") and f"after {n} events" in err.message
        assert err.request_id == "req_msg_7" and "req_msg_7" in str(err)
        assert err.data.error.type == kind
        assert json.loads(err.body)["error"]["message"] == "Overloaded"


def test_error_event_through_the_event_stream_after_the_deltas() -> None:
    body = b"".join(TEXT_PREFIX) + error_event("overloaded_error", "Overloaded, try later")
    stream: EventStream[Any] = EventStream(
        Body([body]), decoder=StreamDecoder(MessageStreamEvent, 200, SSE)
    )
    seen = []
    with pytest.raises(errors.ServiceUnavailableError, match="Overloaded, try later") as info:
        for event in stream:
            seen.append(event.type)
    assert len(seen) == len(TEXT_PREFIX) == info.value.events_received
    assert info.value.retryable and stream._closed


def test_error_event_forms() -> None:
    # the event line alone names it; the data names nothing
    (out, dec) = decode(frame("error", {"error": {"type": "rate_limit_error", "message": "slow"}}))
    assert type(dec.error) is errors.RateLimitError and dec.error.message.startswith("slow")
    # data that is not JSON, and empty data, under event: error
    out, dec = decode(frame("error", "upstream exploded"))
    assert type(dec.error) is errors.R9SDefaultError
    assert dec.error.message.startswith("upstream exploded")
    out, dec = decode(frame("error", ""))
    assert type(dec.error) is errors.R9SDefaultError and not out
    # no event line; a gateway's OpenAI-shaped error
    out, dec = decode(frame(None, {"error": {"message": "quota", "code": 429}}))
    assert type(dec.error) is errors.RateLimitError


# -- ping, unknown types, where the type comes from ---------------------------------------------


def test_ping_is_skipped_and_not_counted() -> None:
    body = ev("ping") + MESSAGE_START + ev("ping") * 3 + frame("ping", "{}") + ev("message_stop")
    out, dec = decode(body)
    assert [e.type for e in out] == ["message_start", "message_stop"]
    assert dec.events_received == 2


def test_unknown_event_types_are_handed_over_as_the_generic_event() -> None:
    body = (
        MESSAGE_START
        + ev(
            "content_block_start",
            index=0,
            content_block={
                "type": "server_tool_use",
                "id": "s1",
                "name": "web_search",
                "input": {},
            },
        )
        + delta(0, "a_delta_of_2027", payload={"x": [1, 2]})
        + ev("content_block_stop", index=0)
        + ev("message_annotation", index=3, note="new", nested={"deep": True})
        + ev("message_stop")
    )
    out, _ = decode(body)
    assert [e.type for e in out] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_annotation",
        "message_stop",
    ]
    assert all(type(e) is MessageStreamEvent for e in out)
    assert out[4].note == "new" and out[4].nested == {"deep": True} and out[4].index == 3
    assert out[4].delta is None and out[4].TYPE == "message_annotation"
    assert out[2].delta.payload == {"x": [1, 2]} and out[2].delta.text is None
    assert text_of(out[2]) is None
    message = final(out)
    assert message.content[0].type == "server_tool_use" and message.content[0].input == {}


def test_type_from_the_event_line_when_the_data_has_none() -> None:
    body = (
        frame("message_start", {"message": {"id": "m", "usage": {"input_tokens": 3}}})
        + frame("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "hi"}})
        + frame("ping", {})
        + frame("message_stop", {})
        + frame("message_stop", {})
    )
    for pieces in (body, [body[i : i + 3] for i in range(0, len(body), 3)]):
        out, dec = decode(pieces)
        assert [e.type for e in out] == ["message_start", "content_block_delta", "message_stop"]
        assert [e.TYPE for e in out] == [e.type for e in out]
        assert out[1].to_dict()["type"] == "content_block_delta"
        assert dec.done and dec.events_received == 3
        assert text_of(out[1]) == "hi"


def test_data_type_wins_when_the_event_line_disagrees() -> None:
    # As the published SDK: it decodes the data alone, by its "type".
    body = (
        frame(
            "message_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "a"},
            },
        )
        + frame(
            "ping",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "b"},
            },
        )
        + frame("error", {"type": "content_block_stop", "index": 0})
        + frame("content_block_delta", {"type": "ping"})
        + frame("message_delta", {"type": "message_stop"})
        + frame(
            None,
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "late"},
            },
        )
    )
    out, dec = decode(body)
    assert [e.type for e in out] == [
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_stop",
    ]
    assert dec.error is None and dec.done


def test_plain_data_events_without_event_lines() -> None:
    body = b"".join(
        frame(None, {"type": k, **f})
        for k, f in [
            ("message_start", {"message": {"id": "m"}}),
            ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "x"}}),
            ("message_stop", {}),
        ]
    )
    out, dec = decode(body)
    assert [e.type for e in out] == ["message_start", "content_block_delta", "message_stop"]
    assert dec.done


def test_data_with_no_type_and_no_event_line_is_handed_over_typeless() -> None:
    out, _ = decode(frame(None, {"something": 1}))
    assert len(out) == 1 and out[0].type is None and out[0].something == 1


# -- the end of the stream --------------------------------------------------------------------


def test_message_stop_ends_at_once_and_what_follows_is_ignored() -> None:
    after = ev("content_block_delta", index=0, delta={"type": "text_delta", "text": "NO"})
    after += b"data: {not json\n\n" + error_event("overloaded_error")
    body = b"".join(TEXT_PREFIX) + ev("message_stop") + after
    out, dec = decode(body)
    assert out[-1].type == "message_stop" and len(out) == len(TEXT_PREFIX) + 1
    assert dec.done and dec.error is None
    assert dec.feed(after) == [] and dec.end() == [] and dec.error is None
    # the same when message_stop closes one read and garbage arrives in the next
    out2, dec2 = decode([b"".join(TEXT_PREFIX) + ev("message_stop"), after])
    assert dicts(out2) == dicts(out) and dec2.error is None


def test_eof_without_message_stop_is_a_clean_end() -> None:
    body = RECORDED[: RECORDED.index(b"event: message_stop")]
    out, dec = decode(body)
    assert not dec.done and dec.error is None
    assert [e.type for e in out] == EXPECTED_TYPES[:-1]
    assert final(out).to_dict() == EXPECTED_MESSAGE
    # ... and before message_delta: no stop reason, the input-side usage only
    body = RECORDED[: RECORDED.index(b"event: message_delta")]
    message = final(decode(body)[0])
    assert message.stop_reason is None and message.usage.output_tokens == 2
    assert message.content[2].input["unit"] == "celsius"


def test_last_event_without_its_blank_line_is_delivered_at_eof() -> None:
    body = b"".join(TEXT_PREFIX) + ev("message_stop").rstrip(b"\n")
    out, dec = decode(body)
    assert out[-1].type == "message_stop" and dec.done


def test_openai_done_marker_from_a_gateway_ends_the_stream() -> None:
    out, dec = decode(b"".join(TEXT_PREFIX) + b"data: [DONE]\n\n" + ev("message_stop"))
    assert len(out) == len(TEXT_PREFIX) and dec.done and dec.error is None


# -- keep-alives and bad events ---------------------------------------------------------------


@pytest.mark.parametrize(
    "keepalive",
    [
        b"data:\n\n",
        b"data: \n\n",
        b"data:  \n\n",
        b"data: \t \n\n",
        b"data: \ndata: \n\n",
        b": ping\n\n",
        b"event: content_block_delta\ndata: \n\n",
        b"data:\r\n\r\n",
        b"data: \x0c\n\n",
    ],
)
def test_empty_and_whitespace_data_is_skipped(keepalive: bytes) -> None:
    body = keepalive + b"".join(TEXT_PREFIX[:3]) + keepalive + ev("message_stop")
    out, dec = decode(body)
    assert dec.error is None and dec.done and len(out) == 4
    # the chat dialect too
    chunk = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
    dec2 = StreamDecoder(ChatCompletionChunk, 200, SSE)
    got = dec2.feed(keepalive + chunk + keepalive + chunk + b"data: [DONE]\n\n")
    assert dec2.error is None and dec2.done and len(got) == 2


def test_invalid_events_are_validation_errors_after_the_events_before() -> None:
    out, dec = decode(
        b"".join(TEXT_PREFIX[:2]) + b'event: content_block_delta\ndata: {"type": \n\n'
    )
    assert len(out) == 2 and type(dec.error) is errors.ResponseValidationError
    assert dec.error.events_received == 2 and "event 3 of the stream is not valid JSON" in str(
        dec.error
    )
    out, dec = decode(MESSAGE_START + b"event: content_block_delta\ndata: [1, 2]\n\n")
    assert len(out) == 1 and "not an object (a list)" in str(dec.error)
    out, dec = decode(MESSAGE_START + b'data: {"type": "message_stop", "x": "\xff"}\n\n')
    assert len(out) == 1 and "not valid UTF-8" in str(dec.error)


def test_oversized_event() -> None:
    big = delta(0, "text_delta", text="x" * 5000)
    out, dec = decode(MESSAGE_START + big, max_event_size=4096)
    assert len(out) == 1 and type(dec.error) is errors.EventTooLargeError
    assert dec.error.events_received == 1


def test_sse_frames_with_an_event_line_decode_the_same_on_every_path() -> None:
    # LF frames take the fast path; the same frames with CRLF take the general one.
    body = (
        b"event: a\ndata: 1\n\n"
        b"event: \ndata: 2\n\n"
        b"id: 7\n\n"
        b"event: b\ndata: 3\n\n"
        b"retry: 250\n\n"
        b"event: c:d\ndata: 4\n\n"
        b"event: e\ndata:5\n\n"
        b"event: f\ndata: 6\ndata: 7\n\n"
        b"event: g\n\n"
        b"data: 8\n\n"
    )
    fast = SSEDecoder().feed(body)
    slow = SSEDecoder().feed(body.replace(b"\n", b"\r\n"))
    dec = SSEDecoder()
    byte = [e for i in range(len(body)) for e in dec.feed(body[i : i + 1])] + dec.end()
    assert fast == slow == byte
    assert [(e.event, e.data, e.id, e.retry) for e in fast] == [
        ("a", "1", None, None),
        ("message", "2", None, None),
        ("b", "3", "7", None),
        ("c:d", "4", "7", 250),
        ("e", "5", "7", None),
        ("f", "6\n7", "7", None),
        ("message", "8", "7", None),
    ]


def test_oversized_event_on_the_fast_path() -> None:
    dec = SSEDecoder(max_event_size=10)
    assert dec.feed(b"event: a\ndata: 0123456789\n\n")[0].data == "0123456789"
    with pytest.raises(errors.EventTooLargeError):
        dec.feed(b"event: a\ndata: 0123456789A\n\n")


# -- accumulating -----------------------------------------------------------------------------


def events_of(*frames: bytes) -> list[Any]:
    out, dec = decode(b"".join(frames))
    assert dec.error is None
    return out


def tool_stream(*pieces: str, stop: bool = True) -> list[Any]:
    return events_of(
        MESSAGE_START,
        ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        delta(0, "text_delta", text="Calling."),
        ev("content_block_stop", index=0),
        ev(
            "content_block_start",
            index=1,
            content_block={"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {}},
        ),
        *[delta(1, "input_json_delta", partial_json=p) for p in pieces],
        *([ev("content_block_stop", index=1)] if stop else []),
        ev("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 7}),
    )


def test_broken_tool_input_names_the_block_and_the_tool() -> None:
    acc = MessagesAccumulator()
    for e in tool_stream('{"q": ', '"unterminated'):
        acc.feed(e)  # feeding never raises: the rest of the stream is read
    with pytest.raises(errors.ResponseValidationError) as info:
        acc.result()
    msg = str(info.value)
    assert "content block 1" in msg and "'lookup'" in msg and "not valid JSON" in msg
    assert '{"q": "unterminated' in msg and info.value.body == '{"q": "unterminated'
    assert isinstance(info.value.__cause__, ValueError)


def test_tool_input_that_is_json_but_not_an_object() -> None:
    with pytest.raises(errors.ResponseValidationError, match=r"content block 1 .*a list"):
        final(tool_stream("[1, ", "2]"))


def test_tool_input_cut_before_its_stop() -> None:
    with pytest.raises(errors.ResponseValidationError, match="ended before its content_block_stop"):
        final(tool_stream('{"q": "ab', stop=False))
    # a complete input whose stop never came is kept
    assert final(tool_stream('{"q": ', '"ab"}', stop=False)).content[1].input == {"q": "ab"}


def test_tool_input_without_pieces_stays_the_starts() -> None:
    message = final(tool_stream())
    assert message.content[1].input == {} and message.content[1].id == "toolu_9"
    assert message.stop_reason == "tool_use" and message.usage.output_tokens == 7
    assert final(tool_stream("", "  ")).content[1].input == {}


def test_usage_merged_and_message_delta_fields() -> None:
    message = final(
        events_of(
            MESSAGE_START,
            ev(
                "message_delta",
                delta={"stop_reason": "stop_sequence", "stop_sequence": "\n\nHuman:"},
                usage={
                    "output_tokens": 40,
                    "cache_read_input_tokens": None,
                    "server_tool_use": {"web_search_requests": 1},
                },
            ),
            ev("message_stop"),
        )
    )
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "\n\nHuman:"
    assert message.usage.to_dict() == {
        "input_tokens": 472,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 128,
        "output_tokens": 40,
        "server_tool_use": {"web_search_requests": 1},
    }
    assert message.content == []


def test_deltas_without_a_start_and_without_indexes() -> None:
    message = final(
        events_of(
            frame("content_block_delta", {"delta": {"text": "a"}}),
            frame("content_block_delta", {"delta": {"type": "text_delta", "text": "b"}}),
            ev("content_block_stop"),
            ev("content_block_start", content_block={"type": "thinking", "thinking": ""}),
            frame("content_block_delta", {"delta": {"type": "thinking_delta", "thinking": "hm"}}),
            frame("content_block_delta", {"delta": {"type": "signature_delta", "signature": "s1"}}),
            frame("content_block_delta", {"delta": {"type": "signature_delta", "signature": "s2"}}),
        )
    )
    assert message.to_dict()["content"] == [
        {"type": "text", "text": "ab"},
        {"type": "thinking", "thinking": "hm", "signature": "s1s2"},
    ]
    assert message.id is None and message.stop_reason is None and message.usage.to_dict() == {}


def test_citations_collected() -> None:
    cite = {"type": "char_location", "cited_text": "x", "document_index": 0}
    message = final(
        events_of(
            ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
            delta(0, "citations_delta", citation=cite),
            delta(0, "text_delta", text="per the doc"),
            delta(0, "citations_delta", citation=cite),
            ev("content_block_stop", index=0),
        )
    )
    assert message.content[0].citations == [cite, cite] and message.content[0].text == "per the doc"


def test_the_accumulator_reads_events_already_touched_and_copies_what_it_keeps() -> None:
    out = events_of(*RECORDED_EVENTS)
    for e in out:  # wrap every nested object first, as a caller reading fields would
        _ = (e.message, e.delta, e.content_block, e.usage)
        if e.message is not None:
            _ = (e.message.usage, e.message.content)
    acc = accumulator_for(MessageStreamEvent)
    for e in out:
        acc.feed(e)
    message = acc.result()
    assert message.to_dict() == EXPECTED_MESSAGE
    message.content[2].input["unit"] = "kelvin"
    message.usage.output_tokens = 0
    assert acc.result().to_dict() == EXPECTED_MESSAGE  # result() twice: the same, unshared
    assert out[0].message.usage.output_tokens == 2


def test_text_of_messages_events() -> None:
    assert [text_of(e) for e in WHOLE if text_of(e)] == ["Let me check ", "the weather ☔ for you."]
    assert text_of(WHOLE[3]) is None  # thinking_delta
    assert text_of(WHOLE[12]) is None  # input_json_delta


# -- through the event stream's helpers -------------------------------------------------------


class Body:
    """A response whose body arrives in the given pieces (what a transport hands over)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.status_code = 200
        self.headers = SSE
        self.pieces = list(pieces)
        self.closed = False

    def read_chunk(self, timeout: float | None = None) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""

    def close(self) -> None:
        self.closed = True


def test_text_deltas_then_get_final() -> None:
    body = Body(
        [RECORDED[i : i + 50] for i in range(0, len(RECORDED), 50)] + [b"event: ping\ndata: {}\n\n"]
    )
    stream: EventStream[Any] = EventStream(body, StreamDecoder(MessageStreamEvent, 200, SSE))
    assert "".join(stream.text_deltas()) == "Let me check the weather ☔ for you."
    assert stream.get_final().to_dict() == EXPECTED_MESSAGE
    assert body.closed and body.pieces == []  # drained after message_stop


def test_get_final_raises_a_broken_tool_input_after_reading_the_stream() -> None:
    frames = tool_stream("{oops")
    raw = b"".join(
        ev(e.type, **{k: v for k, v in e.to_dict().items() if k != "type"}) for e in frames
    ) + ev("message_stop")
    body = Body([raw])
    stream: EventStream[Any] = EventStream(body, StreamDecoder(MessageStreamEvent, 200, SSE))
    with pytest.raises(errors.ResponseValidationError, match="'lookup'"):
        stream.get_final()
    assert body.closed and stream.events_received == len(frames) + 1


# -- the published SDK's names and spellings --------------------------------------------------


def test_type_and_role_spellings_of_the_published_sdk() -> None:
    start = WHOLE[0]
    assert start.TYPE == start.type == "message_start"
    assert start.message.TYPE == "message" and start.message.ROLE == "assistant"
    assert WHOLE[1].content_block.TYPE == "thinking"
    chunk = WHOLE[7]
    kind = getattr(chunk, "TYPE", getattr(chunk, "type", None))
    assert kind == "content_block_delta" and chunk.delta.text == "Let me check "
    assert hasattr(chunk, "delta") and hasattr(chunk.delta, "text")


def test_per_type_names_check_the_type() -> None:
    assert isinstance(WHOLE[7], AnthropicContentBlockDelta)
    assert not isinstance(WHOLE[0], AnthropicContentBlockDelta)
    assert not isinstance(WHOLE[7], AnthropicPing)
    assert isinstance(WHOLE[7], AnthropicStreamEvent) and AnthropicStreamEvent is MessageStreamEvent
    message = final(WHOLE)
    kinds = [
        (
            isinstance(b, AnthropicTextContent),
            isinstance(b, AnthropicToolUseContent),
            isinstance(b, AnthropicToolContent),
        )
        for b in message.content
    ]
    assert kinds == [(False, False, False), (True, False, False), (False, True, True)]
    built = AnthropicTextContent(text="hi")
    assert type(built) is ContentBlock and built.to_dict() == {"type": "text", "text": "hi"}
    assert isinstance(built, AnthropicTextContent)
    assert (
        AnthropicContentBlockDelta(index=0, delta={"type": "text_delta", "text": "x"}).delta.text
        == "x"
    )
    assert CreateMessageResponse is Message and AnthropicMessageResponse is Message


def test_non_streamed_message_decodes() -> None:
    body = json.dumps(EXPECTED_MESSAGE).encode()
    res = finish(200, JSON, body, Message)
    assert isinstance(res, Message) and res._request_id == "req_msg_8"
    assert res.content[1].text == "Let me check the weather ☔ for you."
    assert res.content[2].input == {"location": "Zürich, 東京", "unit": "celsius", "note": "été 🌧"}
    assert res.usage.cache_read_input_tokens == 128 and res.stop_reason == "tool_use"


# -- HTTP errors with Anthropic-shaped bodies ---------------------------------------------------

CFG = RetryConfig("backoff", BackoffStrategy(500, 8000, 2, 60000), retry_connection_errors=True)


@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (400, "invalid_request_error", errors.BadRequestError),
        (401, "authentication_error", errors.AuthenticationError),
        (403, "permission_error", errors.PermissionDeniedError),
        (404, "not_found_error", errors.NotFoundError),
        (413, "request_too_large", errors.R9SDefaultError),
        (429, "rate_limit_error", errors.RateLimitError),
        (500, "api_error", errors.InternalServerError),
        (529, "overloaded_error", errors.ServiceUnavailableError),
    ],
)
def test_http_errors_with_anthropic_bodies_map_by_status(status: int, kind: str, cls: type) -> None:
    body = json.dumps(
        {"type": "error", "error": {"type": kind, "message": f"{kind} says hi"}}
    ).encode()
    err = error_for_status(status, JSON, body)
    assert type(err) is cls and err.status_code == status
    assert err.message == f"{kind} says hi" and err.data.error.type == kind
    assert err.retryable is (status in (429, 500, 529))


def test_529_is_retried_like_503() -> None:
    body = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    err = error_for_status(529, Headers({"retry-after": "3"}), body)
    assert isinstance(err, errors.ServiceUnavailableError) and err.retryable
    assert str(err).startswith("529 Overloaded")
    wait = retry_delay(CFG, err, attempt=1, elapsed=0.0, now=0.0, rand=0.0)
    assert wait == 3.0
    assert (
        529 in errors.RETRY_STATUSES and errors.STATUS_ERRORS[529] is errors.ServiceUnavailableError
    )
    # the same error reported inside a stream before its first event: retried too
    _, dec = decode(error_event("overloaded_error"))
    assert dec.error is not None and dec.error.events_received == 0
    assert retry_delay(CFG, dec.error, attempt=1, elapsed=0.0, now=0.0, rand=0.0) == 0.5


# -- choosing the dialect ---------------------------------------------------------------------


def test_dialect_follows_the_event_class_unless_given() -> None:
    assert dialect_of(MessageStreamEvent) == ANTHROPIC and dialect_of(ChatCompletionChunk) == OPENAI
    assert StreamDecoder(MessageStreamEvent, 200, SSE).dialect == ANTHROPIC
    assert StreamDecoder(ChatCompletionChunk, 200, SSE).dialect == OPENAI
    # an explicit dialect wins: a messages stream read as OpenAI's does not stop at message_stop
    dec = StreamDecoder(MessageStreamEvent, 200, SSE, dialect=OPENAI)
    dec.feed(ev("message_stop") + ev("ping"))
    assert not dec.done and dec.events_received == 2
    with pytest.raises(ValueError, match="unknown stream dialect 'sse'"):
        StreamDecoder(MessageStreamEvent, 200, SSE, dialect="sse")


class _Op:
    def __init__(self, event: type, dialect: str | None = None) -> None:
        self.event = event
        if dialect is not None:
            self.dialect = dialect


class _Call:
    def __init__(self, op: _Op) -> None:
        self.op = op
        self.max_event_size = 1000
        self.secrets = ("sk-abcdef",)


def test_decoder_for_reads_the_operations_dialect() -> None:
    call: Any = _Call(_Op(MessageStreamEvent))
    assert decoder_for(call, 200, SSE).dialect == ANTHROPIC
    call = _Call(_Op(MessageStreamEvent, dialect=OPENAI))
    assert decoder_for(call, 200, SSE).dialect == OPENAI
    assert decoder_for(call, 200, SSE, dialect=ANTHROPIC).dialect == ANTHROPIC
    call = _Call(_Op(ChatCompletionChunk))
    assert decoder_for(call, 200, SSE).dialect == OPENAI
