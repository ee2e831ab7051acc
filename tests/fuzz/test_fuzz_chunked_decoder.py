"""ChunkedDecoder over arbitrary bytes in arbitrary pieces.

Properties: only ``ChunkedError`` (and its subclass for truncation) escapes, and once raised it
stays raised; the buffered state stays within the size-line and trailer limits after every
feed; any chunking gives the same body bytes, the same outcome (done, or which kind of error)
and the same surplus as the whole input; and a well-formed body (random chunk sizes, chunk
extensions, trailers) decodes to what was encoded, in any chunking.
"""

from __future__ import annotations

import pytest
from _fuzz_support import chunkings
from hypothesis import given, settings
from hypothesis import strategies as st

from r9s._core.chunked import (
    MAX_SIZE_LINE,
    MAX_TRAILER_SIZE,
    ChunkedDecoder,
    ChunkedError,
    IncompleteChunkedBody,
)

#: Pieces that make arbitrary bytes look like a chunked body often enough to reach deep states.
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"0",
    b"1",
    b"5",
    b"a",
    b"F",
    b"10",
    b";",
    b";ext=1",
    b" ",
    b"\t",
    b"X-T: v",
    b":",
    b"hello",
    b"-",
    b"\x00",
]
chunked_bytes = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6)), max_size=40
).map(b"".join)


def run(pieces: list[bytes]) -> tuple[bytes, str, bytes]:
    """Feed ``pieces`` then end: (body, outcome, surplus); outcome ``done`` or the error kind."""
    dec = ChunkedDecoder()
    out: list[bytes] = []
    outcome = "done"
    try:
        for piece in pieces:
            out.append(dec.feed(piece))
            assert len(dec._buf) <= MAX_TRAILER_SIZE + len(piece)
            if dec._state == 0:  # reading a size line
                assert len(dec._buf) <= MAX_SIZE_LINE + 1
        dec.end()
    except ChunkedError as exc:
        outcome = "truncated" if isinstance(exc, IncompleteChunkedBody) else "malformed"
        for again in (lambda: dec.feed(b"0\r\n\r\n"), dec.end):  # sticky
            with pytest.raises(ChunkedError):
                again()
        assert not dec.done
    else:
        assert dec.done
    body = b"".join(out)
    assert dec.decoded == len(body)
    return body, outcome, dec.surplus


@settings(max_examples=600, deadline=None)
@given(stream=chunked_bytes, data=st.data())
def test_any_bytes_any_chunking(stream: bytes, data: st.DataObject) -> None:
    pieces = data.draw(chunkings(stream), label="pieces")
    assert run(pieces) == run([stream])


chunk_ext = st.sampled_from([b"", b";a", b";a=1", b';q="x; y"', b" ;a", b"\t;b=2 "])
trailer_field = st.sampled_from([b"A: 1", b"X-Checksum: abc", b"B:", b"C: d\r\n e"])


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=50), max_size=10),
    exts=st.lists(chunk_ext, min_size=11, max_size=11),
    upper=st.booleans(),
    zeros=st.integers(0, 3),
    trailers=st.lists(trailer_field, max_size=3),
    eol=st.sampled_from([b"\r\n", b"\n"]),
    surplus=st.sampled_from([b"", b"HTTP/1.1 200 OK\r\n"]),
    data=st.data(),
)
def test_well_formed_bodies_decode_in_any_chunking(
    chunks: list[bytes],
    exts: list[bytes],
    upper: bool,
    zeros: int,
    trailers: list[bytes],
    eol: bytes,
    surplus: bytes,
    data: st.DataObject,
) -> None:
    wire = b""
    for chunk, ext in zip(chunks, exts, strict=False):
        size = b"0" * zeros + (b"%X" if upper else b"%x") % len(chunk)
        wire += size + ext + b"\r\n" + chunk + b"\r\n"
    wire += b"0" + exts[-1] + b"\r\n" + b"".join(t + eol for t in trailers) + eol + surplus
    pieces = data.draw(chunkings(wire), label="pieces")
    assert run(pieces) == (b"".join(chunks), "done", surplus)
