"""StreamDecoder: body bytes of a streamed answer in, typed events out (no sockets)."""

from __future__ import annotations

import itertools
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s import errors
from r9s._core.headers import Headers
from r9s._core.stream import StreamDecoder
from r9s.models import ChatCompletionChunk, Completion, ResponseStreamEvent

SSE = Headers({"content-type": "text/event-stream", "x-request-id": "req_9"})


def chunk(i: int, text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }


def sse(*payloads: object, done: bool = True) -> bytes:
    out = b"".join(
        b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode()) + b"\n\n"
        for p in payloads
    )
    return out + (b"data: [DONE]\n\n" if done else b"")


def run(body: bytes | list[bytes], make=ChatCompletionChunk, headers=SSE, **kw):
    dec = StreamDecoder(make, 200, headers, **kw)
    out = []
    for piece in [body] if isinstance(body, bytes) else body:
        out += dec.feed(piece)
        if dec.done or dec.error:
            break
    else:
        out += dec.end()
    return out, dec


def test_chat_chunks_decode_and_done_ends_the_stream() -> None:
    body = (
        sse(chunk(0, "Hel"), chunk(1, "lo"))
        + b"data: "
        + json.dumps(chunk(2, "ignored")).encode()
        + b"\n\n"
    )
    out, dec = run(body)
    assert [c.choices[0].delta.content for c in out] == ["Hel", "lo"]
    assert isinstance(out[0], ChatCompletionChunk)
    assert dec.done and dec.error is None and dec.events_received == 2
    assert dec.feed(b"data: {}\n\n") == []  # nothing after [DONE]


def test_clean_end_without_done_just_ends() -> None:
    out, dec = run(sse(chunk(0, "a"), done=False))
    assert len(out) == 1 and not dec.done and dec.error is None


def test_last_event_without_blank_line_is_delivered_at_end() -> None:
    out, _ = run(b"data: " + json.dumps(chunk(0, "tail")).encode())
    assert out[0].choices[0].delta.content == "tail"


def test_tool_call_deltas_decode() -> None:
    first = chunk(0, "")
    first["choices"][0]["delta"] = {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    more = chunk(1, "")
    more["choices"][0]["delta"] = {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}
    out, _ = run(sse(first, more))
    calls = [c.choices[0].delta.tool_calls[0] for c in out]
    assert calls[0].id == "call_1" and calls[0].function.name == "get_weather"
    assert calls[1].id is None and calls[1].function.name is None
    assert calls[1].function.arguments == '{"ci' and calls[1].index == 0


@pytest.mark.parametrize(
    ("payload", "cls", "status"),
    [
        (
            {"error": {"message": "overloaded", "type": "server_error", "code": 503}},
            errors.ServiceUnavailableError,
            503,
        ),
        (
            {"error": {"message": "slow down", "type": "rate_limit_error"}},
            errors.RateLimitError,
            429,
        ),
        ({"error": {"message": "boom", "type": "server_error"}}, errors.InternalServerError, 500),
        ({"error": {"message": "odd"}}, errors.R9SDefaultError, 200),
        ({"error": "plain string"}, errors.R9SDefaultError, 200),
    ],
)
def test_error_payload_mid_stream_raises_after_earlier_events(payload, cls, status) -> None:
    out, dec = run(sse(chunk(0, "a"), chunk(1, "b"), payload, chunk(2, "c")))
    assert [c.choices[0].delta.content for c in out] == ["a", "b"]
    assert type(dec.error) is cls
    assert dec.error.status_code == status
    assert dec.error.events_received == 2
    assert "after 2 events" in str(dec.error)


def test_responses_error_event() -> None:
    body = (
        b'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n'
        b'event: error\ndata: {"type":"error","code":"server_error","message":"overloaded",'
        b'"sequence_number":1}\n\n'
    )
    out, dec = run(body, make=ResponseStreamEvent)
    assert [e.type for e in out] == ["response.created"]
    assert isinstance(dec.error, errors.InternalServerError)
    assert dec.error.message.startswith("overloaded")


def test_invalid_json_event_is_a_validation_error_with_numbers() -> None:
    out, dec = run(sse(chunk(0, "a"), b"{bad json"))
    assert len(out) == 1
    assert isinstance(dec.error, errors.ResponseValidationError)
    assert "event 2" in str(dec.error) and "{bad json" in str(dec.error)


def test_non_object_json_event() -> None:
    _, dec = run(sse(b"[1, 2]"))
    assert isinstance(dec.error, errors.ResponseValidationError)
    assert "not an object" in str(dec.error)


def test_invalid_utf8_event_is_a_validation_error() -> None:
    out, dec = run(sse(chunk(0, "a")).replace(b"data: [DONE]", b'data: {"x": "\xff"}'))
    assert len(out) == 1
    assert isinstance(dec.error, errors.ResponseValidationError)
    assert "UTF-8" in str(dec.error)


def test_oversized_event_is_reported_with_events_received() -> None:
    out, dec = run(sse(chunk(0, "a"), chunk(1, "x" * 5000)), max_event_size=1000)
    assert len(out) == 1
    assert isinstance(dec.error, errors.EventTooLargeError)
    assert dec.error.status_code == 200 and dec.error.events_received == 1


def test_keepalive_comments_and_empty_events_are_skipped() -> None:
    out, _ = run(b": ping\n\ndata:\n\n" + sse(chunk(0, "a")))
    assert len(out) == 1


@pytest.mark.parametrize("blank", [b" ", b"  ", b"\t", b" \t \x0b", b"\ndata: "])
@pytest.mark.parametrize("make", [ChatCompletionChunk, Completion, ResponseStreamEvent])
def test_whitespace_only_data_is_skipped_not_invalid(blank: bytes, make: type) -> None:
    keepalive = b"data: " + blank + b"\n\n"
    body = keepalive + sse(chunk(0, "a"), done=False) + keepalive + sse(chunk(1, "b"))
    out, dec = run(body, make=make)
    assert len(out) == 2 and dec.error is None and dec.done
    crlf = (keepalive + sse(chunk(0, "a"))).replace(b"\n", b"\r\n")
    out, dec = run([crlf[i : i + 1] for i in range(len(crlf))], make=make)
    assert len(out) == 1 and dec.error is None and dec.done


def test_error_event_with_plain_text_data_carries_the_text() -> None:
    out, dec = run(
        sse(chunk(0, "a")).replace(b"data: [DONE]", b"event: error\ndata: upstream gone")
    )
    assert len(out) == 1 and type(dec.error) is errors.R9SDefaultError
    assert dec.error.message.startswith("upstream gone (reported inside the stream after 1 events")


def test_openai_dialect_is_the_default_for_openai_event_classes() -> None:
    for make in (ChatCompletionChunk, Completion, ResponseStreamEvent):
        assert StreamDecoder(make, 200, SSE).dialect == "openai"


def test_completions_chunks_accept_both_object_names() -> None:
    a = {"id": "1", "object": "text_completion", "choices": [{"index": 0, "text": "x"}]}
    b = {"id": "2", "object": "completion", "choices": [{"index": 0, "text": "y"}]}
    out, _ = run(sse(a, b), make=Completion)
    assert [c.choices[0].text for c in out] == ["x", "y"]


def test_gzip_stream_decodes_event_by_event() -> None:
    comp = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    pieces = [
        comp.compress(sse(chunk(i, str(i)), done=False)) + comp.flush(zlib.Z_SYNC_FLUSH)
        for i in range(5)
    ]
    pieces.append(comp.compress(b"data: [DONE]\n\n") + comp.flush())
    dec = StreamDecoder(ChatCompletionChunk, 200, Headers({"content-encoding": "gzip"}))
    seen = []
    for i, p in enumerate(pieces[:5]):
        got = dec.feed(p)
        assert [c.choices[0].delta.content for c in got] == [str(i)]  # no waiting for more
        seen += got
    dec.feed(pieces[5])
    assert dec.done and len(seen) == 5


def test_secret_is_not_quoted_in_errors() -> None:
    dec = StreamDecoder(ChatCompletionChunk, 200, SSE, secrets=["sk-topsecret"])
    dec.feed(sse({"error": {"message": "bad key sk-topsecret"}}))
    assert dec.error is not None
    assert "sk-topsecret" not in str(dec.error) and "sk-topsecret" not in dec.error.body
    assert "sk-topsecret" not in repr(dec.error)


STREAM = sse(*[chunk(i, f"w{i} ") for i in range(30)])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(STREAM)), max_size=40))
def test_any_split_of_a_stream_gives_the_same_chunks(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    out, dec = run([STREAM[a:b] for a, b in itertools.pairwise(bounds)])
    assert [c.choices[0].delta.content for c in out] == [f"w{i} " for i in range(30)]
    assert dec.done
