"""SSEDecoder over arbitrary bytes in arbitrary pieces.

Properties: only the documented exceptions escape (``EventTooLargeError``; ``UnicodeDecodeError``
with ``errors="strict"``), and once raised they stay raised; the buffered state stays within
``max_event_size`` after every feed; no dispatched event is larger than the limit; and any
chunking gives the events of the whole input (when one run stops at an error, its events are
a prefix of the other's: no event is lost to an error).
"""

from __future__ import annotations

import pytest
from _fuzz_support import chunkings, is_known_bug, sse_bytes
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from r9s._core.sse import ServerSentEvent, SSEDecoder
from r9s.errors import EventTooLargeError

#: Slack on the state bound: a partial BOM held until its third byte.
SLACK = 2

Ev = tuple[str, str, str | None, int | None]


def has_bare_data_line(stream: bytes) -> bool:
    return any(line in (b"data", b"\xef\xbb\xbfdata") for line in stream.splitlines())


def run(
    pieces: list[bytes], max_size: int, errors: str, raw: bool, lenient: bool
) -> tuple[list[Ev], type[BaseException] | None]:
    """Feed ``pieces`` then end; ``(events, type of the error that stopped it, or None)``."""
    dec = SSEDecoder(max_size, errors=errors)
    feed = dec.feed_raw if raw else dec.feed
    got: list[ServerSentEvent | str] = []

    def check_state() -> None:
        assert len(dec._tail) <= max_size + SLACK
        assert dec._data_size <= max_size + SLACK

    allowed: tuple[type[BaseException], ...] = (EventTooLargeError,)
    if errors == "strict":
        allowed += (UnicodeDecodeError,)
    error: type[BaseException] | None = None
    try:
        for piece in pieces:
            got += feed(piece)
            check_state()
        got += dec.end()
        check_state()
    except allowed as exc:
        error = type(exc)
        assert dec.error is exc
        for again in (lambda: dec.feed(b"data: x\n\n"), dec.end):  # sticky
            with pytest.raises(type(exc)):
                again()
    events = [
        ("message", e, None, None) if isinstance(e, str) else (e.event, e.data, e.id, e.retry)
        for e in got
    ]
    if errors == "strict" and not lenient:
        assert all(len(e[1].encode()) <= max_size for e in events)
    return events, error


def is_prefix(short: list[Ev], long: list[Ev]) -> bool:
    return long[: len(short)] == short


@settings(max_examples=800, deadline=None)
@given(
    stream=sse_bytes,
    max_size=st.sampled_from([4, 16, 64, 1024]),
    errors=st.sampled_from(["replace", "strict"]),
    raw=st.booleans(),
    data=st.data(),
)
def test_any_bytes_any_chunking(
    stream: bytes, max_size: int, errors: str, raw: bool, data: st.DataObject
) -> None:
    pieces = data.draw(chunkings(stream), label="pieces")
    lenient = has_bare_data_line(stream)
    try:
        whole, whole_error = run([stream], max_size, errors, raw, lenient)
        split, split_error = run(pieces, max_size, errors, raw, lenient)
    except Exception as exc:
        if is_known_bug(exc):
            reject()
        raise
    if whole_error is None and split_error is None:
        assert split == whole
    elif split_error is None:
        assert is_prefix(whole, split)
    elif whole_error is None:
        assert is_prefix(split, whole)
    else:
        assert is_prefix(split, whole) or is_prefix(whole, split)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.binary(max_size=90).filter(lambda b: b"\r" not in b and b"\n" not in b), max_size=30
    ),
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    data=st.data(),
)
def test_long_lines_are_bounded_in_any_chunking(
    lines: list[bytes], newline: bytes, data: st.DataObject
) -> None:
    # Lines around the limit (64): exercises the size checks on both the fast and line paths.
    stream = newline.join(lines) + newline
    pieces = data.draw(chunkings(stream), label="pieces")
    lenient = has_bare_data_line(stream)
    whole, whole_error = run([stream], 64, "replace", False, lenient)
    split, split_error = run(pieces, 64, "replace", False, lenient)
    if whole_error is None and split_error is None:
        assert split == whole
    else:
        assert is_prefix(split, whole) or is_prefix(whole, split)


# -- bugs found (reproducers; see _fuzz_support.KNOWN_BUGS) --------------------------------------


def test_bare_data_lines_count_toward_the_limit() -> None:
    dec = SSEDecoder(max_event_size=64)
    # Today: no error, and an event of 999 bytes (999 newlines) is dispatched.
    with pytest.raises(EventTooLargeError):
        dec.feed(b"data\r\n" * 1000 + b"\r\n")


def test_a_huge_retry_value_is_no_crash() -> None:
    dec = SSEDecoder()
    # Today: ValueError "Exceeds the limit (4300 digits) for integer string conversion".
    events = dec.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert [e.data for e in events] == ["x"]
