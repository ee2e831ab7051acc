"""Incremental content decoding (``Content-Encoding: gzip`` / ``deflate``), bounded.

The transports hand over bytes with the content coding intact; this turns them into the
entity bytes piece by piece, so a gzip-compressed event stream yields each event as soon as
its compressed bytes arrive.  Output is bounded: one ``feed`` never inflates past
``max_output`` bytes (a decompression bomb is refused with a clear error instead of eating
memory).  ``deflate`` is accepted both zlib-wrapped (RFC 9110) and raw, as servers send both.
"""

from __future__ import annotations

import zlib

from r9s._core.request import ACCEPT_ENCODING
from r9s.errors import ResponseValidationError

__all__ = ["ACCEPT_ENCODING", "ContentDecoder", "DEFAULT_MAX_BODY_SIZE"]

#: Largest non-streamed body (after decompression): 64 MiB.  A chat completion is kilobytes;
#: this bounds what a misbehaving server (or a bomb) can make the client hold.
DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024

#: Without a total bound (streams), one read may inflate at most this many times its size,
#: plus 1 MiB.  Deflate can reach ~1032:1, which only crafted input does; event streams,
#: flushed per event, compress far less than 256:1.
STREAM_MAX_RATIO = 256


class ContentDecoder:
    """Decode one response body.

    Args:
        encoding: the ``Content-Encoding`` header value, or ``None``.
        max_output: bytes of decoded output allowed in total (``None``: no total bound, for
            streams, whose events the SSE decoder bounds); each ``feed`` is bounded anyway.

    Raises:
        ResponseValidationError: an unsupported coding, corrupt data, or output over the limit.
    """

    __slots__ = ("_decomp", "_encoding", "_ended", "_max", "_pending", "_total", "identity")

    def __init__(self, encoding: str | None, max_output: int | None = DEFAULT_MAX_BODY_SIZE):
        enc = (encoding or "").strip().lower()
        if enc in ("", "identity"):
            self.identity = True
        elif enc in ("gzip", "x-gzip", "deflate"):
            self.identity = False
        else:
            raise ResponseValidationError(
                f"the server sent Content-Encoding {encoding!r}, which r9s did not ask for "
                f"and cannot decode (it asks for {ACCEPT_ENCODING!r})"
            )
        self._encoding = enc
        self._max = max_output
        self._total = 0
        self._decomp: zlib._Decompress | None = None
        self._pending = b""  # the first byte of a next gzip member, split from its second
        self._ended = False  # a compressed member ended: only another gzip member may follow

    def feed(self, data: bytes) -> bytes:
        if self.identity:
            out = data
        else:
            out = self._inflate(data)
        if self._max is not None:
            self._total += len(out)
            if self._total > self._max:
                raise ResponseValidationError(
                    f"the response body exceeds {self._max} bytes"
                    + ("" if self.identity else " once decompressed")
                )
        return out

    def _inflate(self, data: bytes) -> bytes:
        if self._pending:
            data = self._pending + data
            self._pending = b""
        if not data:
            return b""
        d = self._decomp
        if d is None:
            if self._ended:
                # RFC 1952: gzip members may follow each other; anything else after the end
                # of the compressed data is an error, never silently dropped.
                if self._encoding == "deflate" or not b"\x1f\x8b".startswith(data[:2]):
                    raise ResponseValidationError(
                        f"{len(data)} bytes follow the end of the {self._encoding} body"
                    )
                if len(data) < 2:
                    self._pending = data
                    return b""
            if self._encoding == "deflate":
                # zlib-wrapped unless the first byte is not a zlib header (then raw deflate).
                raw = (data[0] & 0x0F) != 8
                d = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            else:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._decomp = d
        if self._max is not None:
            limit = self._max - self._total + 1
        else:
            limit = len(data) * STREAM_MAX_RATIO + (1 << 20)
        try:
            out = d.decompress(data, limit)
        except zlib.error as exc:
            raise ResponseValidationError(
                f"the {self._encoding} response body is corrupt: {exc}"
            ) from exc
        if d.unconsumed_tail:
            raise ResponseValidationError(
                f"the {self._encoding} body inflates past {limit - 1} bytes from {len(data)} "
                "compressed bytes; refused as a decompression bomb"
            )
        if d.eof:
            self._decomp = None
            self._ended = True
            if d.unused_data:
                out += self._inflate(d.unused_data)
        return out

    def end(self) -> bytes:
        """Finish; raises if a compressed body stopped before the end of its compressed data."""
        if self._pending or (self._decomp is not None and not self._decomp.eof):
            raise ResponseValidationError(
                f"the {self._encoding} response body ended before the end of its compressed data"
            )
        return b""
