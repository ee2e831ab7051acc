"""ResponseHeadParser and body_framing: bytes in, heads out; whole, at every split, byte by byte.

Malformed input is checked against RFC 9112 and, where h11 (the async transport's parser)
decides, against h11's own answer (a differential table at the end).
"""

from __future__ import annotations

import itertools
import pickle

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.http11 import (
    MAX_FIELDS,
    MAX_HEAD_SIZE,
    MAX_INTERIM_HEADS,
    Framing,
    HeadError,
    IncompleteHead,
    ResponseHead,
    ResponseHeadParser,
    body_framing,
    keep_alive,
)

HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"X-Request-ID: abc\r\n"
    b"Content-Length: 11\r\n"
    b"\r\n"
)
BODY = b'{"ok": true}'[:11]
EXPECTED = ResponseHead(
    200,
    "OK",
    "1.1",
    [("Content-Type", "application/json"), ("X-Request-ID", "abc"), ("Content-Length", "11")],
    len(HEAD),
)


def parse(*pieces: bytes) -> tuple[ResponseHead, bytes]:
    """Feed ``pieces``; the head (exactly one ``feed`` returns it) and the trailing bytes."""
    parser = ResponseHeadParser()
    heads = [h for h in (parser.feed(p) for p in pieces) if h is not None]
    assert len(heads) == 1
    parser.end()  # a no-op once the head arrived
    return heads[0], parser.trailing


def error_of(data: bytes, *, whole: bool = True) -> HeadError:
    """The error ``data`` raises, fed whole (or byte by byte), then ended."""
    parser = ResponseHeadParser()
    with pytest.raises(HeadError) as info:
        if whole:
            parser.feed(data)
        else:
            for i in range(len(data)):
                parser.feed(data[i : i + 1])
        parser.end()
    return info.value


def head_with(*lines: bytes, status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    return status + b"\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


# -- whole, split, byte by byte -------------------------------------------------------------


def test_whole() -> None:
    head, rest = parse(HEAD + BODY)
    assert head == EXPECTED
    assert rest == BODY


def test_every_split_point() -> None:
    data = HEAD + BODY
    for i in range(len(data) + 1):
        assert parse(data[:i], data[i:]) == (EXPECTED, BODY), i


def test_byte_by_byte() -> None:
    data = HEAD + BODY
    assert parse(*(data[i : i + 1] for i in range(len(data)))) == (EXPECTED, BODY)


def test_bytes_after_the_head_go_to_trailing() -> None:
    parser = ResponseHeadParser()
    assert parser.feed(HEAD) == EXPECTED
    assert parser.trailing == b""
    assert parser.feed(b"abc") is None
    assert parser.feed(b"def") is None
    assert parser.trailing == b"abcdef"
    assert parser.received == len(HEAD) + 6


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(HEAD) + 40), max_size=12))
def test_any_split_gives_the_same_head(cuts: list[int]) -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + HEAD + BODY
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    head, rest = parse(*pieces)
    assert head.status == 200 and head.headers == EXPECTED.headers
    assert head.consumed == len(data) - len(BODY)
    assert rest == BODY


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
            st.from_regex(r"[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?", fullmatch=True),
        ),
        max_size=20,
    ),
    st.sampled_from([b"\r\n", b"\n"]),
    st.integers(min_value=1, max_value=7),
)
def test_any_fields_any_line_end_any_piece_size(
    fields: list[tuple[str, str]], eol: bytes, size: int
) -> None:
    data = eol.join(
        [b"HTTP/1.1 404 Not Found"] + [f"{n}: {v}".encode() for n, v in fields] + [b"", b"x"]
    )
    head, rest = parse(*(data[i : i + size] for i in range(0, len(data), size)))
    assert (head.status, head.reason, head.headers) == (404, "Not Found", fields)
    assert rest == b"x"


# -- what is accepted -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "reason", "headers"),
    [
        (b"HTTP/1.1 200 OK\n\n", 200, "OK", []),
        (b"HTTP/1.1 200 OK\nA: b\n\n", 200, "OK", [("A", "b")]),
        (b"HTTP/1.1 200 OK\r\nA: b\n\r\n", 200, "OK", [("A", "b")]),
        (b"HTTP/1.1 200 OK\nA: b\r\n\n", 200, "OK", [("A", "b")]),
        (b"HTTP/1.1 200\r\n\r\n", 200, "", []),
        (b"HTTP/1.1 200 \r\n\r\n", 200, "", []),
        (b"HTTP/1.1 503 Slow Down, please\t!\r\n\r\n", 503, "Slow Down, please\t!", []),
        (b"HTTP/1.1 200 OK\r\nA:\r\n\r\n", 200, "OK", [("A", "")]),
        (b"HTTP/1.1 200 OK\r\nA: \t b c \t\r\n\r\n", 200, "OK", [("A", "b c")]),
        (b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\td\r\n\r\n", 200, "OK", [("A", "b c d")]),
        (b"HTTP/1.1 200 OK\r\nA: \x01b\x7f\r\n\r\n", 200, "OK", [("A", "\x01b\x7f")]),
        (b"HTTP/1.1 200 caf\xe9\r\nA: \xe9t\xe9\r\n\r\n", 200, "caf\xe9", [("A", "\xe9t\xe9")]),
        (b"HTTP/1.1 999 Max\r\n\r\n", 999, "Max", []),
    ],
    ids=[
        "lf-only-empty",
        "lf-only",
        "crlf-then-lf-end",
        "lf-then-crlf",
        "no-reason",
        "empty-reason",
        "reason-with-tab",
        "empty-value",
        "ows-stripped",
        "obs-fold",
        "other-ctl-kept",
        "latin-1",
        "status-999",
    ],
)
def test_accepted(data: bytes, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
    for piece in (len(data), 1):
        head, _ = parse(*(data[i : i + piece] for i in range(0, len(data), piece)))
        assert (head.status, head.reason, head.headers) == (status, reason, headers)


def test_names_keep_their_case_and_order() -> None:
    head, _ = parse(head_with(b"set-COOKIE: a=1", b"X-Y: 1", b"Set-Cookie: b=2"))
    assert head.headers == [("set-COOKIE", "a=1"), ("X-Y", "1"), ("Set-Cookie", "b=2")]


@pytest.mark.parametrize(
    ("status_line", "version"),
    [(b"HTTP/1.0 200 OK", "1.0"), (b"HTTP/1.1 200 OK", "1.1"), (b"HTTP/1.2 200 OK", "1.1")],
)
def test_http_version(status_line: bytes, version: str) -> None:
    assert parse(head_with(status=status_line))[0].http_version == version


def test_interim_heads_are_skipped() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + HEAD + BODY
    )
    for i in range(len(data) + 1):
        head, rest = parse(data[:i], data[i:])
        assert head.status == 200 and head.headers == EXPECTED.headers
        assert head.consumed == len(data) - len(BODY)
        assert rest == BODY


def test_101_is_returned_not_skipped() -> None:
    data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00"
    head, rest = parse(data)
    assert head.status == 101 and rest == b"\x81\x00"
    assert body_framing(head, "GET") == Framing(0, False, False)


def test_interim_heads_are_bounded() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    head, _ = parse(interim * MAX_INTERIM_HEADS + HEAD)
    assert head.status == 200
    assert "interim" in str(error_of(interim * (MAX_INTERIM_HEADS + 1) + HEAD))


# -- what is refused ------------------------------------------------------------------------


MALFORMED = {
    # status lines
    "not-a-number": (b"HTTP/1.1 abc OK\r\n\r\n", "malformed status line"),
    "two-digits": (b"HTTP/1.1 99 Too Low\r\n\r\n", "malformed status line"),
    "four-digits": (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
    "status-below-100": (b"HTTP/1.1 099 Low\r\n\r\n", "invalid status code 099"),
    "non-ascii-digits": ("HTTP/1.1 ٢٠٠ OK\r\n\r\n".encode(), "malformed status line"),
    "no-space-after-version": (b"HTTP/1.1200 OK\r\n\r\n", "malformed status line"),
    "two-spaces": (b"HTTP/1.1  200 OK\r\n\r\n", "malformed status line"),
    "missing-version": (b"200 OK\r\n\r\n", "not an HTTP/1.x status line"),
    "lower-case-http": (b"http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
    "http-2": (b"HTTP/2.0 200 OK\r\n\r\n", "unsupported protocol version HTTP/2.0"),
    "http-0.9": (b"HTTP/0.9 200 OK\r\n\r\n", "unsupported protocol version HTTP/0.9"),
    "spdy": (b"SPDY/3 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
    "tls-junk": (b"\x16\x03\x03\x00\x2a\x02\x00\x00\x26" + b"\x00" * 40, "not an HTTP/1.x"),
    "empty-line-first": (b"\r\nHTTP/1.1 200 OK\r\n\r\n", "an empty line instead"),
    "lf-first": (b"\nHTTP/1.1 200 OK\r\n\r\n", "an empty line instead"),
    "nul-in-reason": (b"HTTP/1.1 200 O\x00K\r\n\r\n", "malformed status line"),
    "cr-in-reason": (b"HTTP/1.1 200 O\rK\r\n\r\n", "malformed status line"),
    # field lines
    "no-colon": (head_with(b"this line has no colon"), "without a colon"),
    "space-before-colon": (head_with(b"X-Spaced : value"), "whitespace between"),
    "tab-before-colon": (head_with(b"X-Spaced\t: value"), "whitespace between"),
    "empty-name": (head_with(b": value"), "empty field name"),
    "space-in-name": (head_with(b"X Y: value"), "invalid header field name"),
    "non-token-name": (head_with(b"X(Y): value"), "invalid header field name"),
    "nul-in-value": (head_with(b"A: b\x00c"), "a NUL in the header field 'A'"),
    "cr-in-value": (head_with(b"A: b\rc"), "a CR inside the header field 'A'"),
    "cr-at-value-end": (b"HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", "a CR inside"),
    "vt-in-value": (head_with(b"A: b\x0bc"), "invalid value in the header field 'A'"),
    "fold-first": (head_with(b" folded", b"A: b"), "continuation line"),
    "fold-with-nul": (head_with(b"A: b", b" c\x00"), "invalid value in the header field 'A'"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_head(name: str) -> None:
    data, message = MALFORMED[name]
    for whole in (True, False):
        err = error_of(data + b"more", whole=whole)
        assert message in str(err), (name, whole, str(err))
        assert not isinstance(err, IncompleteHead)


def test_messages_never_quote_values() -> None:
    for data, _ in MALFORMED.values():
        assert b"sk-secret" not in data
    err = error_of(head_with(b"Authorization: sk-secret\x00x"))
    assert "sk-secret" not in str(err)
    err = error_of(head_with(b"Authorization: sk-secret\rx"))
    assert "sk-secret" not in str(err)


def test_junk_is_refused_before_the_head_ends() -> None:
    parser = ResponseHeadParser()
    with pytest.raises(HeadError, match=r"not an HTTP/1\.x"):
        parser.feed(b"SSH-2.0-OpenSSH")  # no line end, let alone an empty line
    parser = ResponseHeadParser()
    assert parser.feed(b"HTT") is None  # may still become a status line
    parser = ResponseHeadParser()
    with pytest.raises(HeadError, match="malformed status line"):
        parser.feed(b"HTTP/1.1 abc OK\r\nX-A: 1\r\n")  # the status line is complete


def test_errors_are_sticky() -> None:
    parser = ResponseHeadParser()
    with pytest.raises(HeadError) as first:
        parser.feed(b"garbage\r\n\r\n")
    with pytest.raises(HeadError) as again:
        parser.feed(HEAD)
    assert again.value is first.value
    with pytest.raises(HeadError):
        parser.end()


# -- limits ---------------------------------------------------------------------------------


def test_head_size_limit() -> None:
    room = MAX_HEAD_SIZE - len(b"HTTP/1.1 200 OK\r\nX-Pad: \r\n\r\n")
    fits = head_with(b"X-Pad: " + b"p" * room)
    assert len(fits) == MAX_HEAD_SIZE
    assert parse(fits)[0].headers[0][1] == "p" * room
    over = head_with(b"X-Pad: " + b"p" * (room + 1))
    for whole in (True, False):
        assert f"over {MAX_HEAD_SIZE} bytes" in str(error_of(over, whole=whole))


def test_head_without_end_is_refused_once_over_the_limit() -> None:
    parser = ResponseHeadParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\n" + b"x" * (MAX_HEAD_SIZE - 20)) is None
    with pytest.raises(HeadError, match=f"over {MAX_HEAD_SIZE} bytes"):
        parser.feed(b"x" * 100)


def test_field_count_limit() -> None:
    fields = [b"X-F-%d: v" % i for i in range(MAX_FIELDS)]
    assert len(parse(head_with(*fields))[0].headers) == MAX_FIELDS
    assert f"over {MAX_FIELDS} header fields" in str(error_of(head_with(*fields, b"X-Last: v")))


# -- end of input ---------------------------------------------------------------------------


def test_end_before_any_byte() -> None:
    parser = ResponseHeadParser()
    parser.feed(b"")
    with pytest.raises(IncompleteHead) as info:
        parser.end()
    assert info.value.received == 0
    assert "before any byte" in str(info.value)


@pytest.mark.parametrize("cut", [1, 7, 17, len(HEAD) - 2, len(HEAD) - 1])
def test_end_inside_the_head(cut: int) -> None:
    parser = ResponseHeadParser()
    assert parser.feed(HEAD[:cut]) is None
    with pytest.raises(IncompleteHead) as info:
        parser.end()
    assert info.value.received == cut
    assert f"after {cut} bytes" in str(info.value)


def test_incomplete_head_pickles() -> None:
    err = IncompleteHead("the connection closed", 12)
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.received) == ("the connection closed", 12)


# -- body framing and keep-alive -----------------------------------------------------------


def framing_of(status_line: bytes, *lines: bytes, method: str = "POST") -> Framing:
    head, _ = parse(head_with(*lines, status=status_line))
    return body_framing(head, method)


OK11, OK10 = b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK"


@pytest.mark.parametrize(
    ("status_line", "lines", "method", "expected"),
    [
        (OK11, [b"Content-Length: 5"], "POST", Framing(5, False, True)),
        (OK11, [b"content-length: 5", b"Content-Length: 5"], "POST", Framing(5, False, True)),
        (OK11, [b"Content-Length: 5, 5"], "POST", Framing(5, False, True)),
        (OK11, [b"Content-Length: 0"], "POST", Framing(0, False, True)),
        (OK11, [b"Transfer-Encoding: chunked"], "POST", Framing(None, True, True)),
        (OK11, [b"Transfer-Encoding: Chunked "], "POST", Framing(None, True, True)),
        (
            OK11,
            [b"Transfer-Encoding: chunked", b"Content-Length: 5"],
            "POST",
            Framing(None, True, False),
        ),
        (OK11, [], "POST", Framing(None, False, False)),
        (OK11, [b"Content-Length: 5"], "HEAD", Framing(0, False, True)),
        (OK11, [b"Transfer-Encoding: gzip"], "HEAD", Framing(0, False, True)),
        (b"HTTP/1.1 204 No Content", [], "POST", Framing(0, False, True)),
        (b"HTTP/1.1 304 Not Modified", [b"Content-Length: 9"], "GET", Framing(0, False, True)),
        (OK11, [b"Content-Length: 5", b"Connection: close"], "POST", Framing(5, False, False)),
        (OK11, [b"Content-Length: 5", b"Connection: x, Close"], "POST", Framing(5, False, False)),
        (OK11, [b"Content-Length: 5", b"Connection: keep-alive"], "POST", Framing(5, False, True)),
        (OK10, [b"Content-Length: 5"], "POST", Framing(5, False, False)),
        (OK10, [b"Content-Length: 5", b"Connection: Keep-Alive"], "POST", Framing(5, False, True)),
        (OK10, [b"Connection: keep-alive"], "POST", Framing(None, False, False)),
        (OK10, [b"Transfer-Encoding: chunked"], "POST", Framing(None, True, False)),
    ],
    ids=[
        "length",
        "length-repeated",
        "length-list",
        "length-0",
        "chunked",
        "chunked-case-and-ows",
        "chunked-and-length",
        "read-to-close",
        "head",
        "head-ignores-te",
        "204",
        "304",
        "close",
        "close-in-list",
        "keep-alive-1.1",
        "1.0",
        "1.0-keep-alive",
        "1.0-keep-alive-read-to-close",
        "1.0-chunked",
    ],
)
def test_body_framing(
    status_line: bytes, lines: list[bytes], method: str, expected: Framing
) -> None:
    assert framing_of(status_line, *lines, method=method) == expected


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b"Content-Length: two"], "invalid Content-Length (1 field(s)"),
        ([b"Content-Length: 2", b"Content-Length: 7"], "invalid Content-Length (2 field(s)"),
        ([b"Content-Length: 2, 7"], "invalid Content-Length"),
        ([b"Content-Length: -2"], "invalid Content-Length"),
        ([b"Content-Length: +2"], "invalid Content-Length"),
        ([b"Content-Length:"], "invalid Content-Length"),
        (["Content-Length: ٢".encode()], "invalid Content-Length"),
        ([b"Content-Length: " + b"9" * 21], "invalid Content-Length"),
        ([b"Transfer-Encoding: gzip"], "unsupported Transfer-Encoding"),
        ([b"Transfer-Encoding: gzip, chunked"], "unsupported Transfer-Encoding"),
        ([b"Transfer-Encoding: chunked, chunked"], "unsupported Transfer-Encoding"),
        ([b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"], "unsupported"),
    ],
)
def test_body_framing_refuses(lines: list[bytes], message: str) -> None:
    with pytest.raises(HeadError) as info:
        framing_of(OK11, *lines)
    assert message in str(info.value)


def test_content_length_is_checked_even_without_a_body() -> None:
    with pytest.raises(HeadError, match="invalid Content-Length"):
        framing_of(b"HTTP/1.1 204 No Content", b"Content-Length: x")


@pytest.mark.parametrize(
    ("status_line", "lines", "expected"),
    [
        (OK11, [], True),
        (OK11, [b"Connection: close"], False),
        (OK11, [b"CONNECTION: upgrade", b"connection: CLOSE"], False),
        (OK10, [], False),
        (OK10, [b"Connection: keep-alive"], True),
        (b"HTTP/1.1 101 Switching Protocols", [], False),
    ],
)
def test_keep_alive(status_line: bytes, lines: list[bytes], expected: bool) -> None:
    head, _ = parse(head_with(*lines, status=status_line))
    assert keep_alive(head) is expected


# -- against h11 ----------------------------------------------------------------------------


def h11_answer(data: bytes) -> tuple[int, str, list[tuple[str, str]]] | None:
    """h11's final response head for ``data`` (status, reason, headers lower-cased), or None if
    h11 refuses it."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    try:
        while True:
            event = conn.next_event()
            assert event is not h11.NEED_DATA, "the table holds only complete heads"
            if isinstance(event, h11.Response):
                headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers]
                return event.status_code, event.reason.decode("latin-1"), headers
    except h11.RemoteProtocolError:
        return None


def our_answer(data: bytes) -> tuple[int, str, list[tuple[str, str]]] | None:
    try:
        head, _ = parse(data)
        body_framing(head, "GET")
    except HeadError:
        return None
    return head.status, head.reason, [(n.lower(), v) for n, v in head.headers]


def comparable(answer: tuple[int, str, list[tuple[str, str]]] | None) -> object:
    """An answer without its Content-Length fields: h11 merges repeated ones into one."""
    if answer is None:
        return None
    status, reason, headers = answer
    return status, reason, [(n, v) for n, v in headers if n != "content-length"]


DIFFERENTIAL = [
    HEAD,
    b"HTTP/1.1 200 OK\nA: b\n\n",
    b"HTTP/1.1 200 OK\r\nA: b\n\r\n",
    b"HTTP/1.1 200\r\n\r\n",
    b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: \x01b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA:\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA:   \r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"HTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n" + HEAD,
    b"HTTP/1.1 200 caf\xe9\r\nX: \xff\r\n\r\n",
    # refused by both
    b"\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/1.1 99 Low\r\n\r\n",
    b"SPDY/3 200 OK\r\n\r\n",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Spaced : v\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n: v\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: b\x0cc\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n folded\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"HTTP/1.1 200 O\x00K\r\n\r\n",
]


@pytest.mark.parametrize("data", DIFFERENTIAL)
def test_same_answer_as_h11(data: bytes) -> None:
    assert comparable(our_answer(data)) == comparable(h11_answer(data))


def test_deliberate_difference_from_h11_other_major_versions() -> None:
    """h11 accepts any ``HTTP/d.d`` status line; an HTTP/1.1 client refuses HTTP/2.0 and 0.9
    (as http.client does): their framing rules are not these."""
    for data in (b"HTTP/2.0 200 OK\r\n\r\n", b"HTTP/0.9 200 OK\r\n\r\n"):
        assert h11_answer(data) is not None
        assert our_answer(data) is None
