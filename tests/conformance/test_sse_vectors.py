"""SSEDecoder against the WHATWG examples and the wpt ``eventsource/format-*`` vectors, no sockets.

Every vector (``_vectors.py``) is fed whole, one byte per feed, split in two at every index, at
random split points (hypothesis), through ``feed_raw`` and with ``errors="strict"``; each must
give the spec's events from ``feed`` and r9s's documented extra from ``end()``.
"""

from __future__ import annotations

import itertools

import pytest
from _conformance import PASSED, check, decode
from _vectors import EXCLUDED, VECTORS, Vector
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.classify import is_event_stream
from r9s._core.headers import Headers

ids = [v.name for v in VECTORS]


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_whole(vector: Vector) -> None:
    check(vector, decode([vector.body]))
    PASSED["core: whole"].add(vector.name)


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_one_byte_per_feed(vector: Vector) -> None:
    body = vector.body
    check(vector, decode([body[i : i + 1] for i in range(len(body))]))
    PASSED["core: one byte per feed"].add(vector.name)


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_every_split_in_two(vector: Vector) -> None:
    body = vector.body
    for i in range(len(body) + 1):
        check(vector, decode([body[:i], body[i:]]))
    PASSED["core: every split in two"].add(vector.name)


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_feed_raw(vector: Vector) -> None:
    check(vector, decode([vector.body], raw=True))
    body = vector.body
    check(vector, decode([body[i : i + 1] for i in range(len(body))], raw=True))
    PASSED["core: feed_raw"].add(vector.name)


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
def test_strict_utf8(vector: Vector) -> None:
    # Every vector is valid UTF-8, so strict decoding changes nothing.
    check(vector, decode([vector.body], errors="strict"))
    PASSED["core: errors=strict"].add(vector.name)


@pytest.mark.parametrize("vector", VECTORS, ids=ids)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_splits(vector: Vector, data: st.DataObject) -> None:
    body = vector.body
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=12), label="cuts"))
    pieces = [body[a:b] for a, b in itertools.pairwise([0, *cuts, len(body)])]
    check(vector, decode(pieces))
    PASSED["core: random splits (hypothesis)"].add(vector.name)


def test_the_vector_set() -> None:
    names = [v.name for v in VECTORS]
    assert len(names) == len(set(names))
    assert all(v.source for v in VECTORS)
    by_origin = {
        origin: sum(v.name.startswith(origin) for v in VECTORS) for origin in ("whatwg", "wpt")
    }
    assert by_origin == {"whatwg": 6, "wpt": 40}, by_origin
    assert len(EXCLUDED) == 7


@pytest.mark.parametrize(
    ("content_type", "browser_accepts"),
    [
        ("x bogus", False),  # wpt format-mime-bogus.htm
        ("text/x-bogus", False),  # wpt format-mime-valid-bogus.htm
        ("text/event-stream;", True),  # wpt format-mime-trailing-semicolon.htm
        ("text/event-stream;charset=windows-1252", True),  # wpt format-utf-8.any.js
    ],
)
def test_mime_decisions_agree_with_eventsource(content_type: str, browser_accepts: bool) -> None:
    # Not parsing: whether a streamed 2XX answer is read as an event stream at all.  Where the
    # browser fails the connection, r9s reads the body as JSON (and reports what came instead).
    assert is_event_stream(200, Headers({"Content-Type": content_type})) is browser_accepts
