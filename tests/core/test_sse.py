"""SSEDecoder: the WHATWG parsing rules, every split of the input, size limits.

Spec examples are from the WHATWG HTML standard, section 9.2.6 "Event stream interpretation"
(https://html.spec.whatwg.org/multipage/server-sent-events.html), carried over as data.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.sse import ServerSentEvent, SSEDecoder
from r9s.errors import EventTooLargeError


def decode(data: bytes, *, end: bool = False, **kw: object) -> list[ServerSentEvent]:
    d = SSEDecoder(**kw)  # type: ignore[arg-type]
    events = d.feed(data)
    if end:
        events += d.end()
    return events


def decode_pieces(pieces: list[bytes], *, end: bool = True) -> list[ServerSentEvent]:
    d = SSEDecoder()
    events: list[ServerSentEvent] = []
    for p in pieces:
        events += d.feed(p)
    if end:
        events += d.end()
    return events


def ev(data: str, event: str = "message", id: str | None = None, retry: int | None = None):
    return ServerSentEvent(data, event, id, retry)


# -- the spec's examples -------------------------------------------------------------------


def test_spec_multiline_data() -> None:
    assert decode(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [ev("YHOO\n+2\n10")]


def test_spec_comment_id_and_space_rules() -> None:
    stream = (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    )
    assert decode(stream) == [
        ev("first event", id="1"),
        ev("second event", id=""),
        ev(" third event", id=""),
    ]


def test_spec_empty_data_lines_and_trailing_incomplete_event() -> None:
    stream = b"data\n\ndata\ndata\n\ndata:"
    # Per the spec the last, unterminated event is not dispatched by the stream itself ...
    assert decode(stream) == [ev(""), ev("\n")]
    # ... and r9s dispatches it at end() rather than drop data silently (module docstring).
    assert decode(stream, end=True) == [ev(""), ev("\n"), ev("")]


def test_spec_space_after_colon_is_optional() -> None:
    assert decode(b"data:test\n\ndata: test\n\n") == [ev("test"), ev("test")]


# -- line endings ------------------------------------------------------------------------


@pytest.mark.parametrize("nl", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(nl: bytes) -> None:
    stream = b"event: a" + nl + b"data: 1" + nl + b"data: 2" + nl + nl + b"data: 3" + nl + nl
    assert decode(stream) == [ev("1\n2", "a"), ev("3")]


def test_mixed_line_endings() -> None:
    assert decode(b"data: a\r\ndata: b\rdata: c\n\r\n") == [ev("a\nb\nc")]


def test_crlf_split_across_reads_is_one_line_end() -> None:
    assert decode_pieces([b"data: a\r", b"\n", b"\r", b"\ndata: b\r\n\r\n"]) == [ev("a"), ev("b")]


def test_lone_cr_then_data_in_next_read() -> None:
    # The CR ends the line; the next read starting with "d" must not be swallowed.
    assert decode_pieces([b"data: a\r", b"\rdata: b\r\r"]) == [ev("a"), ev("b")]


# -- fields ------------------------------------------------------------------------------


def test_bom_is_dropped_once_even_when_split() -> None:
    assert decode_pieces([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [ev("x")]
    assert decode(b"\xef\xbb\xbfdata: x\n\n\xef\xbb\xbfdata: y\n\n") == [ev("x")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    assert decode(b": ping\nfoo: bar\ndata: x\n:\n\n") == [ev("x")]


def test_event_type_resets_after_dispatch() -> None:
    assert decode(b"event: a\ndata: 1\n\ndata: 2\n\n") == [ev("1", "a"), ev("2")]


def test_event_without_data_is_not_dispatched_and_its_type_is_dropped() -> None:
    assert decode(b"event: a\n\ndata: 2\n\n") == [ev("2")]


def test_id_persists_and_nul_ids_are_ignored() -> None:
    events = decode(b"id: 7\ndata: a\n\nid: x\x00y\ndata: b\n\n")
    assert [e.id for e in events] == ["7", "7"]


def test_retry_needs_ascii_digits() -> None:
    events = decode(b"retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry: \xd9\xa1\ndata: c\n\n")
    assert [e.retry for e in events] == [1500, None, None]


def test_field_without_colon_has_empty_value() -> None:
    assert decode(b"data\nevent\n\n") == [ev("")]


def test_invalid_utf8_is_replaced_by_default_and_strict_on_request() -> None:
    assert decode(b"data: \xff\n\n") == [ev("\ufffd")]
    d = SSEDecoder(errors="strict")
    assert d.feed(b"data: ok\n\ndata: \xff\n\n") == [ev("ok")]
    with pytest.raises(UnicodeDecodeError):
        d.feed(b"")


# -- splits ------------------------------------------------------------------------------

FIXTURE = (
    b"\xef\xbb\xbf: hello\r\n"
    b'data: {"a": 1}\r\n\r\n'
    b"event: update\nid: 42\nretry: 10\ndata: line one\ndata: line two\n\n"
    b"data:\rdata\r\r"
    b'data: {"choices": [{"delta": {"content": "caf\xc3\xa9"}}]}\n\n'
    b"data: [DONE]\n\n"
    b"data: trailing"
)


def test_every_single_split_point_gives_the_same_events() -> None:
    whole = decode(FIXTURE, end=True)
    assert len(whole) == 6
    for i in range(len(FIXTURE) + 1):
        assert decode_pieces([FIXTURE[:i], FIXTURE[i:]]) == whole, i


def test_byte_by_byte_gives_the_same_events() -> None:
    assert decode_pieces([FIXTURE[i : i + 1] for i in range(len(FIXTURE))]) == decode(
        FIXTURE, end=True
    )


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_chunking_gives_the_same_events(data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(FIXTURE)), max_size=30)))
    bounds = [0, *cuts, len(FIXTURE)]
    pieces = [FIXTURE[a:b] for a, b in itertools.pairwise(bounds)]
    assert decode_pieces(pieces) == decode(FIXTURE, end=True)


_line = st.one_of(
    st.builds(
        lambda v: b"data: " + v,
        st.binary(max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b),
    ),
    st.sampled_from([b"", b": c", b"event: e", b"id: 1", b"retry: 5", b"data", b"data:x"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_line, max_size=20),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.lists(st.integers(0, 400), max_size=10),
)
def test_generated_streams_split_anywhere(lines: list[bytes], nl: bytes, cuts: list[int]) -> None:
    stream = nl.join(lines) + nl
    bounds = [0, *sorted(c for c in cuts if c <= len(stream)), len(stream)]
    pieces = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    assert decode_pieces(pieces) == decode(stream, end=True)


# -- limits ------------------------------------------------------------------------------


def test_oversized_event_raises_after_the_events_before_it() -> None:
    d = SSEDecoder(max_event_size=100)
    got = d.feed(b"data: ok\n\ndata: " + b"x" * 200 + b"\n\n")
    assert got == [ev("ok")]
    assert isinstance(d.error, EventTooLargeError)
    with pytest.raises(EventTooLargeError, match="100 bytes"):
        d.feed(b"data: more\n\n")


def test_oversized_event_over_many_lines_and_reads() -> None:
    d = SSEDecoder(max_event_size=1000)
    with pytest.raises(EventTooLargeError):
        for _ in range(200):  # bounded: raises by the 100th read
            d.feed(b"data: " + b"y" * 9 + b"\n")


def test_unterminated_line_is_bounded() -> None:
    d = SSEDecoder(max_event_size=1000)
    with pytest.raises(EventTooLargeError, match="without ending"):
        for _ in range(200):
            d.feed(b"z" * 64)


def test_fast_path_keeps_ids_and_state_across_frames() -> None:
    # Plain one-line frames take a fast path; an id set mid-read must still reach later events.
    events = decode(
        b"data: a\n\nid: 5\ndata: b\n\ndata: c\n\n: ping\n\nevent: x\ndata: d\n\ndata: e\n\n"
    )
    assert [(e.data, e.id, e.event) for e in events] == [
        ("a", None, "message"),
        ("b", "5", "message"),
        ("c", "5", "message"),
        ("d", "5", "x"),
        ("e", "5", "message"),
    ]
    d = SSEDecoder()
    assert d.feed_raw(b"data: plain\n\nevent: e\ndata: typed\n\n") == ["plain", ev("typed", "e")]


def test_event_in_progress_across_reads_then_fast_frames() -> None:
    assert decode_pieces([b"data: a\n", b"data: b\n\ndata: c\n\n", b"data: d\n", b"\n"]) == [
        ev("a\nb"),
        ev("c"),
        ev("d"),
    ]
