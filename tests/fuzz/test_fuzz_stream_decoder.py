"""StreamDecoder (chat chunks) over arbitrary bytes and over valid-but-corrupted chat streams.

Properties: ``feed`` and ``end`` never raise; ``.error`` is only ever an ``R9SError``; once the
stream is done or failed nothing more comes out; and for a generated stream whose meaning is
known (chunks, keep-alives, ``[DONE]``, error payloads, broken JSON, in any pieces, optionally
gzip-compressed), exactly the events before the first terminating item come out, then the
right kind of error (or ``done``).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from _fuzz_support import JSON, chunkings, is_known_bug, json_objects, sse_bytes
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from r9s._core.headers import Headers
from r9s._core.stream import StreamDecoder
from r9s.errors import R9SError, ResponseValidationError
from r9s.models.chat import ChatCompletionChunk

SSE = Headers({"Content-Type": "text/event-stream"})
SSE_GZIP = Headers({"Content-Type": "text/event-stream", "Content-Encoding": "gzip"})


def feed_all(dec: StreamDecoder, pieces: list[bytes]) -> list[Any]:
    """Every piece, then ``end()``; checks the invariants after each call."""
    out: list[Any] = []
    for piece in pieces:
        stopped = dec.done or dec.error is not None
        got = dec.feed(piece)
        assert dec.error is None or isinstance(dec.error, R9SError)
        if stopped:
            assert got == []
        out += got
    stopped = dec.done or dec.error is not None
    got = dec.end()
    assert dec.error is None or isinstance(dec.error, R9SError)
    if stopped:
        assert got == []
    out += got
    assert all(isinstance(e, ChatCompletionChunk) for e in out)
    assert dec.events_received == len(out)
    return out


@settings(max_examples=600, deadline=None)
@given(stream=sse_bytes, gzipped=st.booleans(), data=st.data())
def test_arbitrary_bytes(stream: bytes, gzipped: bool, data: st.DataObject) -> None:
    if gzipped and data.draw(st.booleans(), label="compress"):
        stream = gzip.compress(stream)
    pieces = data.draw(chunkings(stream), label="pieces")
    dec = StreamDecoder(ChatCompletionChunk, 200, SSE_GZIP if gzipped else SSE, max_event_size=256)
    try:
        events = feed_all(dec, pieces)
    except Exception as exc:
        if is_known_bug(exc):
            reject()
        raise
    for e in events:  # attribute access on whatever came
        e.id, e.choices, e.usage, e.model  # noqa: B018


# -- structured streams -------------------------------------------------------------------

_text = st.text(max_size=20)
_chunk = st.builds(
    lambda id, content, finish: {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    },
    _text,
    _text,
    st.sampled_from([None, "stop", "length"]),
)
_error_payload = st.fixed_dictionaries(
    {
        "error": st.fixed_dictionaries(
            {"message": _text},  # never empty: {"error": {}} is falsy, so not an error
            optional={
                "code": st.one_of(
                    st.sampled_from([400, 401, 429, 500, 503, 999, "429", "503", "x", None]),
                    st.integers(),
                    st.text(alphabet="0123456789abc_", max_size=5),
                ),
                "type": st.sampled_from(
                    ["rate_limit_error", "server_error", "invalid_request_error", "other"]
                ),
            },
        )
    }
)

#: (kind, value): a payload to serialize, a raw data text, or None (see render).
Item = tuple[str, Any]

_items = st.one_of(
    st.tuples(st.just("event"), _chunk),
    st.tuples(st.just("event"), json_objects()),  # classified by the rule below
    st.tuples(st.just("error"), _error_payload),
    st.tuples(
        st.just("responses-error"), st.builds(lambda m: {"type": "error", "message": m}, _text)
    ),
    st.tuples(
        st.just("event: error"),
        st.one_of(JSON.map(json.dumps), _text).filter(
            lambda s: s != "[DONE]" and "\r" not in s and "\n" not in s
        ),
    ),
    st.tuples(st.just("done"), st.none()),
    st.tuples(
        st.just("invalid-json"),
        st.sampled_from(['{"a": 1', "{'a': 1}", "{]", "nan", '{"a": 1}}', "[DONE] ", "{\x00}"]),
    ),
    st.tuples(st.just("non-object"), st.one_of(st.lists(JSON, max_size=3), _text, st.integers())),
    st.tuples(st.just("keep-alive"), st.sampled_from([": ping", "data:", "data: ", "event: x"])),
)


def is_error_object(obj: dict[str, Any]) -> bool:
    """The documented rule: a payload with a non-null ``error``, or a ``type: error`` event."""
    return bool(obj.get("error")) or obj.get("type") == "error"


def render(kind: str, value: Any, nl: bytes, ascii_json: bool, extra: bytes) -> bytes:
    if kind == "keep-alive":
        return value.encode() + nl + nl
    if kind == "done":
        text = "[DONE]"
    elif kind in ("invalid-json", "event: error"):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=ascii_json)
    block = extra + b"data: " + text.encode() + nl + nl
    if kind == "event: error":
        block = b"event: error" + nl + block
    return block


def expected(items: list[Item]) -> tuple[list[dict[str, Any]], str]:
    """The events before the first terminating item, and how the stream ends."""
    events: list[dict[str, Any]] = []
    for kind, value in items:
        if kind == "done":
            return events, "done"
        if kind == "event":
            if is_error_object(value):
                return events, "reported error"
            events.append(value)
        elif kind in ("error", "responses-error", "event: error"):
            return events, "reported error"
        elif kind in ("invalid-json", "non-object"):
            return events, "invalid"
    return events, "end"


@settings(max_examples=500, deadline=None)
@given(
    items=st.lists(_items, max_size=12),
    nl=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    ascii_json=st.booleans(),
    extra=st.sampled_from([b"", b"id: 1\n", b": c\n", b"retry: 10\n"]),
    trailer=st.one_of(st.just(b""), st.binary(max_size=40)),
    gzipped=st.booleans(),
    data=st.data(),
)
def test_corrupted_chat_streams(
    items: list[Item],
    nl: bytes,
    ascii_json: bool,
    extra: bytes,
    trailer: bytes,
    gzipped: bool,
    data: st.DataObject,
) -> None:
    want, how = expected(items)
    stream = b"".join(render(k, v, nl, ascii_json, extra) for k, v in items)
    if how != "end":
        stream += trailer  # anything after the end is ignored
    if gzipped:
        stream = gzip.compress(stream)
    pieces = data.draw(chunkings(stream), label="pieces")
    dec = StreamDecoder(ChatCompletionChunk, 200, SSE_GZIP if gzipped else SSE)
    try:
        events = feed_all(dec, pieces)
    except Exception as exc:
        if is_known_bug(exc):
            reject()
        raise
    assert [e.__dict__ for e in events] == want
    if how == "done":
        assert dec.done and dec.error is None
    elif how == "end":
        assert not dec.done and dec.error is None
    else:
        err = dec.error
        assert isinstance(err, R9SError)
        assert isinstance(err, ResponseValidationError) == (how == "invalid")
        # A bad-JSON event's ResponseValidationError leaves events_received unset (None), unlike
        # the other stream errors; its message numbers the event instead ("event N of ...").
        if how == "invalid":
            assert err.events_received in (None, len(want))
            assert f"event {len(want) + 1} of the stream" in err.message
        else:
            assert err.events_received == len(want)
        assert err.status_code is not None
        str(err), repr(err)  # never raise


# -- bugs found (reproducers; see _fuzz_support.KNOWN_BUGS) --------------------------------------


def fed(data: bytes) -> StreamDecoder:
    dec = StreamDecoder(ChatCompletionChunk, 200, SSE)
    assert dec.feed(b'data: {"id": "ok"}\n\n')[0].id == "ok"
    dec.feed(data)
    return dec


def test_deeply_nested_event_is_a_validation_error() -> None:
    # Today: RecursionError out of feed().
    assert isinstance(fed(b"data: " + b"[" * 100_000 + b"\n\n").error, ResponseValidationError)


def test_error_code_with_a_non_decimal_digit() -> None:
    # Today: ValueError "invalid literal for int() with base 10: '²'" out of feed().
    dec = fed('data: {"error": {"code": "\u00b2", "message": "m"}}\n\n'.encode())
    assert isinstance(dec.error, R9SError)


def test_error_payload_with_a_lone_surrogate() -> None:
    # Today: UnicodeEncodeError "surrogates not allowed" out of feed().
    dec = fed(b'data: {"error": {"message": "\\ud800"}}\n\n')
    assert isinstance(dec.error, R9SError)


def test_huge_retry_field_in_a_chat_stream() -> None:
    # Today: ValueError "Exceeds the limit (4300 digits)" out of feed().
    dec = fed(b"retry: " + b"1" * 5000 + b'\ndata: {"id": "b"}\n\n')
    assert dec.error is None
