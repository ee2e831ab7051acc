"""Incremental content decoding and its bounds."""

from __future__ import annotations

import gzip
import zlib

import pytest

from r9s._core.decoding import ContentDecoder
from r9s.errors import ResponseValidationError

DATA = b'{"id": "x", "text": "' + b"hello " * 2000 + b'"}'


def decode(enc: str | None, blob: bytes, step: int = 7, **kw) -> bytes:
    d = ContentDecoder(enc, **kw)
    out = b"".join(d.feed(blob[i : i + step]) for i in range(0, len(blob), step))
    return out + d.end()


def test_identity_gzip_and_both_deflates() -> None:
    assert decode(None, DATA) == DATA
    assert decode("gzip", gzip.compress(DATA)) == DATA
    assert decode("deflate", zlib.compress(DATA)) == DATA
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decode("deflate", raw.compress(DATA) + raw.flush()) == DATA


def test_truncated_gzip_raises() -> None:
    blob = gzip.compress(DATA)
    with pytest.raises(ResponseValidationError, match="ended before"):
        decode("gzip", blob[: len(blob) // 2])


def test_corrupt_gzip_raises() -> None:
    with pytest.raises(ResponseValidationError, match="corrupt"):
        decode("gzip", b"\x1f\x8b\x08\x00garbagegarbage")


def test_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # ~50 KB that inflates to 50 MB
    with pytest.raises(ResponseValidationError, match=r"exceeds|bomb"):
        decode("gzip", bomb, step=len(bomb), max_output=1024 * 1024)
    with pytest.raises(ResponseValidationError, match="bomb"):
        decode("gzip", bomb, step=len(bomb), max_output=None)


def test_body_size_limit_applies_to_identity_too() -> None:
    with pytest.raises(ResponseValidationError, match="exceeds 100 bytes"):
        decode(None, b"x" * 200, max_output=100)


def test_unsupported_encoding_is_named() -> None:
    with pytest.raises(ResponseValidationError, match="'br'"):
        ContentDecoder("br")
