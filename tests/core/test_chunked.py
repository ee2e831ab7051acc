"""ChunkedDecoder: bytes in, body bytes out; whole, at every split, byte by byte, with surplus.

Malformed input is checked against the RFC 9112 section 7.1 grammar and, where h11 (the async
transport's parser before) decides, against h11's own answer.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.chunked import (
    MAX_CHUNK_SIZE_DIGITS,
    MAX_SIZE_LINE,
    MAX_TRAILER_SIZE,
    ChunkedDecoder,
    ChunkedError,
    IncompleteChunkedBody,
)


def chunked(*pieces: bytes, trailer: bytes = b"") -> bytes:
    """``pieces`` as chunks (empty ones skipped), the last chunk, ``trailer``, the final CRLF."""
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return body + b"0\r\n" + trailer + b"\r\n"


SSE = [b'data: {"n": %d, "text": "%s"}\n\n' % (i, b"x" * i) for i in range(12)]
STREAM = chunked(*SSE)
BODY = b"".join(SSE)


def decode(*pieces: bytes) -> tuple[bytes, ChunkedDecoder]:
    """Feed ``pieces`` then end; the body and the decoder."""
    dec = ChunkedDecoder()
    out = [dec.feed(p) for p in pieces]
    dec.end()
    return b"".join(out), dec


def error_of(data: bytes, *, whole: bool = True) -> ChunkedError:
    """The error ``data`` raises, fed whole (or byte by byte), then ended."""
    dec = ChunkedDecoder()
    with pytest.raises(ChunkedError) as info:
        if whole:
            dec.feed(data)
        else:
            for i in range(len(data)):
                dec.feed(data[i : i + 1])
        dec.end()
    return info.value


# -- whole, split, byte by byte -------------------------------------------------------------


def test_whole() -> None:
    body, dec = decode(STREAM)
    assert body == BODY
    assert dec.done and dec.surplus == b"" and dec.decoded == len(BODY) and dec.error is None


def test_every_split_point() -> None:
    for i in range(len(STREAM) + 1):
        body, dec = decode(STREAM[:i], STREAM[i:])
        assert body == BODY, i
        assert dec.done and dec.surplus == b""


def test_every_pair_of_split_points_of_a_small_body() -> None:
    data = chunked(b"ab", b"c", trailer=b"X-T: 1\r\n")
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            body, dec = decode(data[:i], data[i:j], data[j:])
            assert body == b"abc" and dec.done, (i, j)


def test_one_byte_at_a_time() -> None:
    dec = ChunkedDecoder()
    out = []
    for i in range(len(STREAM)):
        out.append(dec.feed(STREAM[i : i + 1]))
        assert len(dec._buf) <= MAX_SIZE_LINE + 2
    dec.end()
    assert b"".join(out) == BODY and dec.done
    assert sum(1 for o in out if o) == len(BODY)  # data bytes come out as soon as they arrive


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=40), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_any_chunking_gives_the_same_body(pieces: list[bytes], cuts: list[int]) -> None:
    data = chunked(*pieces, trailer=b"A: b\r\n")
    points = sorted({min(c, len(data)) for c in cuts})
    parts = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    body, dec = decode(*parts)
    assert body == b"".join(pieces) and dec.done


def test_empty_feeds_change_nothing() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"") == b""
    assert dec.feed(STREAM[:7]) + dec.feed(b"") + dec.feed(STREAM[7:]) == BODY
    assert dec.feed(b"") == b""
    assert dec.done and dec.surplus == b""


def test_empty_body() -> None:
    assert decode(b"0\r\n\r\n")[0] == b""
    assert decode(b"000\r\n\r\n")[0] == b""


def test_a_big_chunk_comes_out_as_it_arrives() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"10000\r\n" + b"a" * 100) == b"a" * 100
    assert dec.feed(b"b" * 65436) == b"b" * 65436
    assert not dec.done
    assert dec.feed(b"\r\n0\r\n\r\n") == b""
    assert dec.done and dec.decoded == 65536


# -- what is accepted -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"5",
        b"05",
        b"0" * (MAX_CHUNK_SIZE_DIGITS - 1) + b"5",
        b"5;name",
        b"5;name=value",
        b'5;name="quoted; with spaces"',
        b"5;a=1;b=2",
        b"5;",
        b"5 ",  # trailing whitespace: h11 tolerates it, some servers send it
        b"5\t \t",
        b"5;ext ",
        b"5 ;ext",  # BWS before ";" (RFC 9112 section 7.1.1); h11 refuses it
        b"5\t;ext",
    ],
)
def test_size_lines_accepted(line: bytes) -> None:
    data = line + b"\r\nhello\r\n0;last=1\r\n\r\n"
    assert decode(data)[0] == b"hello"
    assert decode(*[data[i : i + 1] for i in range(len(data))])[0] == b"hello"


def test_hex_digits_either_case() -> None:
    assert decode(b"A\r\n" + b"x" * 10 + b"\r\nb\r\n" + b"y" * 11 + b"\r\n0\r\n\r\n")[0] == (
        b"x" * 10 + b"y" * 11
    )


@pytest.mark.parametrize(
    "trailer",
    [
        b"X-Checksum: abc\r\n",
        b"A: 1\r\nB: 2\r\n",
        b"A:\r\n",
        b"A: folded\r\n  continued\r\n",  # obsolete line folding, as h11 accepts it
        b"A: 1\nB: 2\n",  # LF line ends in the trailer section: h11 accepts them
        b"A: 1\r\nB: 2\n",
    ],
)
def test_trailers_are_read_and_dropped(trailer: bytes) -> None:
    for end in (b"\r\n", b"\n"):
        data = b"5\r\nhello\r\n0\r\n" + trailer + end
        for i in range(len(data) + 1):
            body, dec = decode(data[:i], data[i:])
            assert body == b"hello" and dec.done and dec.surplus == b"", (trailer, end, i)


def test_a_bare_lf_may_end_an_empty_trailer_section() -> None:  # as in h11
    body, dec = decode(b"5\r\nhello\r\n0\r\n\n")
    assert body == b"hello" and dec.done


# -- surplus --------------------------------------------------------------------------------


def test_surplus_after_the_end() -> None:
    body, dec = decode(STREAM + b"HTTP/1.1 200 OK\r\n")
    assert body == BODY and dec.surplus == b"HTTP/1.1 200 OK\r\n"
    dec2 = ChunkedDecoder()
    assert dec2.feed(STREAM) == BODY
    assert dec2.feed(b"more") == b"" and dec2.feed(b" bytes") == b""
    assert dec2.surplus == b"more bytes"
    dec2.end()  # ended: nothing to complain about


def test_surplus_at_every_split() -> None:
    data = chunked(b"abc") + b"junk"
    for i in range(len(data) + 1):
        body, dec = decode(data[:i], data[i:])
        assert body == b"abc" and dec.surplus == b"junk", i


# -- malformed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"zz",
        b"-5",
        b"+5",
        b"0x5",
        b" 5",
        b"5 5",
        b"5_0",
        b"",
        b"5\r",  # CR CR LF
        b";ext",
        b"5;a\x00b",  # control characters are never part of an extension
        b"5;a\x7fb",
        b"\xef\xbb\xbf5",
    ],
)
def test_invalid_size_lines(line: bytes) -> None:
    data = line + b"\r\nhello\r\n0\r\n\r\n"
    for whole in (True, False):
        err = error_of(data, whole=whole)
        assert not isinstance(err, IncompleteChunkedBody)
        assert "chunk-size line" in str(err)
        assert "after 0 body bytes" in str(err)


def test_a_size_line_needs_crlf() -> None:  # as h11: "5\n" is not a size line
    err = error_of(b"5\nhello\r\n0\r\n\r\n")
    assert "invalid chunk-size line" in str(err)
    err = error_of(b"3\r\nabc\r\n0\n\n")
    assert "invalid chunk-size line" in str(err) and "after 3 body bytes" in str(err)


def test_too_many_hex_digits() -> None:
    data = b"0" * (MAX_CHUNK_SIZE_DIGITS + 1) + b"5\r\nhello\r\n0\r\n\r\n"
    for whole in (True, False):
        assert f"over {MAX_CHUNK_SIZE_DIGITS} hex digits" in str(error_of(data, whole=whole))


def test_the_largest_size_is_accepted_and_then_truncated() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"f" * MAX_CHUNK_SIZE_DIGITS + b"\r\nabc") == b"abc"
    with pytest.raises(IncompleteChunkedBody, match="inside a chunk"):
        dec.end()


@pytest.mark.parametrize("whole", [True, False])
def test_an_oversized_size_line_is_refused_without_its_end(whole: bool) -> None:
    data = b"5;" + b"e" * (10 * MAX_SIZE_LINE)  # no CRLF ever
    dec = ChunkedDecoder()
    with pytest.raises(ChunkedError, match=f"over {MAX_SIZE_LINE} bytes"):
        if whole:
            dec.feed(data)
        for i in range(0, len(data), 7):
            dec.feed(data[i : i + 7])
            assert len(dec._buf) <= MAX_SIZE_LINE + 1


def test_the_longest_size_line_is_accepted() -> None:
    line = b"5;" + b"e" * (MAX_SIZE_LINE - 2)
    assert len(line) == MAX_SIZE_LINE
    assert decode(line + b"\r\nhello\r\n0\r\n\r\n")[0] == b"hello"
    assert decode(b"1\r\na\r\n" + line + b"\r\nhello\r\n0\r\n\r\n")[0] == b"ahello"
    err = error_of(line + b"e\r\nhello\r\n0\r\n\r\n")
    assert f"over {MAX_SIZE_LINE} bytes" in str(err)
    err = error_of(b"1\r\na\r\n" + line + b"e\r\nhello\r\n0\r\n\r\n")
    assert f"over {MAX_SIZE_LINE} bytes" in str(err)


@pytest.mark.parametrize(
    "after", [b"XX0\r\n\r\n", b"\n0\r\n\r\n", b"\r0\r\n\r\n", b"X", b"\rX", b"hello!\r\n"]
)
def test_chunk_data_must_be_followed_by_crlf(after: bytes) -> None:
    data = b"5\r\nhello" + after
    for whole in (True, False):
        err = error_of(data, whole=whole)
        assert "not followed by CRLF" in str(err) and "after 5 body bytes" in str(err)


@pytest.mark.parametrize(
    "trailer",
    [
        b"no colon\r\n\r\n",
        b" starts folded: x\r\n\r\n",
        b"A: b\r\r\n\r\n",
        b"A: b\x00\r\n\r\n",
        b"bad name: x\r\n\r\n",
        b"\rX",
    ],
)
def test_invalid_trailers(trailer: bytes) -> None:
    data = b"5\r\nhello\r\n0\r\n" + trailer
    err = error_of(data)
    assert not isinstance(err, IncompleteChunkedBody)
    assert "after 5 body bytes" in str(err)


def test_an_oversized_trailer_section_is_refused() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"5\r\nhello\r\n0\r\n") == b"hello"
    line = b"X-Pad: " + b"p" * 1000 + b"\r\n"
    with pytest.raises(ChunkedError, match=f"trailer section over {MAX_TRAILER_SIZE} bytes"):
        for _ in range(MAX_TRAILER_SIZE // len(line) + 2):
            dec.feed(line)
            assert len(dec._buf) <= MAX_TRAILER_SIZE + len(line)


def test_a_large_trailer_section_within_the_limit_is_read_in_pieces() -> None:
    line = b"X-Pad: " + b"p" * 1000 + b"\r\n"
    trailer = line * (MAX_TRAILER_SIZE // len(line) - 1)
    data = b"5\r\nhello\r\n0\r\n" + trailer + b"\r\n"
    body, dec = decode(*[data[i : i + 997] for i in range(0, len(data), 997)])
    assert body == b"hello" and dec.done


# -- errors after good data, and their stickiness --------------------------------------------


def test_body_bytes_before_an_error_are_returned_first() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"5\r\nhello\r\nzz\r\nmore") == b"hello"
    assert isinstance(dec.error, ChunkedError)
    assert "after 5 body bytes" in str(dec.error)
    with pytest.raises(ChunkedError) as first:
        dec.feed(b"")
    assert first.value is dec.error
    with pytest.raises(ChunkedError):
        dec.end()
    with pytest.raises(ChunkedError):
        dec.feed(b"0\r\n\r\n")


def test_an_error_with_no_body_bytes_before_it_is_raised_at_once() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"5\r\nhel") == b"hel"
    assert dec.feed(b"loXX") == b"lo"  # the bytes before the bad CRLF first
    with pytest.raises(ChunkedError, match="not followed by CRLF"):
        dec.feed(b"")
    dec = ChunkedDecoder()
    assert dec.feed(b"5\r\nhello") == b"hello"
    with pytest.raises(ChunkedError, match="not followed by CRLF"):
        dec.feed(b"XX")
    assert dec.decoded == 5


# -- truncation -----------------------------------------------------------------------------


def test_truncation_at_every_offset() -> None:
    data = chunked(b"hello", b" world", trailer=b"A: 1\r\n")
    for i in range(len(data)):
        dec = ChunkedDecoder()
        got = dec.feed(data[:i])
        assert b"hello world".startswith(got)
        assert not dec.done
        with pytest.raises(IncompleteChunkedBody) as info:
            dec.end()
        assert f"after {len(got)} body bytes" in str(info.value)
        with pytest.raises(IncompleteChunkedBody):
            dec.end()  # sticky


def test_truncation_messages() -> None:
    cases = {
        b"": "before the last chunk",
        b"5\r\nhel": "inside a chunk (2 of its bytes missing)",
        b"5\r\nhello\r": "before the last chunk",
        b"5\r\nhello\r\n0\r\n": "in the trailer section",
        b"5\r\nhello\r\n0\r\nA: 1\r\n": "in the trailer section",
    }
    for data, where in cases.items():
        dec = ChunkedDecoder()
        dec.feed(data)
        with pytest.raises(IncompleteChunkedBody) as info:
            dec.end()
        assert f"ended {where}," in str(info.value)


# -- against h11 -----------------------------------------------------------------------------


def h11_decode(data: bytes) -> bytes | None:
    """The body h11 reads from a chunked response with ``data`` as its body, or ``None``."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + data)
    conn.receive_data(b"")
    out = []
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Data):
                out.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(out)
            elif not isinstance(event, h11.Response):
                return None
    except h11.RemoteProtocolError:
        return None


def r9s_decode(data: bytes) -> bytes | None:
    try:
        return decode(data)[0]
    except ChunkedError:
        return None


#: Where the decoder knowingly differs from h11 0.16: it follows RFC 9112 (BWS before ";") and
#: refuses control characters in extensions and more than 16 hex digits.
DIFFERENT = {b"5 ;x\r\nhello\r\n0\r\n\r\n", b"5;\x01\r\nhello\r\n0\r\n\r\n"}

H11_CASES = [
    b"5\r\nhello\r\n0\r\n\r\n",
    b"5\nhello\r\n0\r\n\r\n",
    b"5\r\nhello\n0\r\n\r\n",
    b"5\r\nhello\r\n0\n\n",
    b"5\r\nhello\r\n0\r\n\n",
    b"5 \r\nhello\r\n0\r\n\r\n",
    b"5;x \r\nhello\r\n0\r\n\r\n",
    b" 5\r\nhello\r\n0\r\n\r\n",
    b"+5\r\nhello\r\n0\r\n\r\n",
    b"-5\r\nhello\r\n0\r\n\r\n",
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhelloXX0\r\n\r\n",
    b"5\r\nhello\r\n0\r\nA: b\r\n\r\n",
    b"5\r\nhello\r\n0\r\nA: b\nC: d\n\n",
    b"5\r\nhello\r\n0\r\nbad\r\n\r\n",
    b"5\r\nhello\r\n0\r\n x: y\r\n\r\n",
    b"5\r\nhello\r\n0\r\nA: b\r\n c\r\n\r\n",
    b"5\r\nhello\r\n0;e\r\n\r\n",
    b"\r\n5\r\nhello\r\n0\r\n\r\n",
    b"5\r\r\nhello\r\n0\r\n\r\n",
    b"5;\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhello\r\n0\r\nA: b\r\r\n\r\n",
    b"5\r\nhello\r\n0\r\n\r",
    b"5\r\nhello\r\n",
    *sorted(DIFFERENT),
]


@pytest.mark.parametrize("data", H11_CASES)
def test_agrees_with_h11(data: bytes) -> None:
    ours, theirs = r9s_decode(data), h11_decode(data)
    if data in DIFFERENT:
        assert ours != theirs
    else:
        assert ours == theirs
