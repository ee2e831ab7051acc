"""Incremental decoder of the HTTP/1.1 chunked transfer coding: bytes in, body bytes out, no I/O.

Rule 1: this module never touches a socket.  A transport feeds it the raw bytes that follow a
response head with ``Transfer-Encoding: chunked`` and hands the body bytes it returns to the
core; at EOF it calls ``end()``.  Both shipped transports use it instead of h11's and
http.client's own chunk readers, which cost a Python-level event (h11) or several method calls
(http.client) per chunk, and servers streaming server-sent events send one chunk per event.

The rules (RFC 9112 section 7.1, https://www.rfc-editor.org/rfc/rfc9112#section-7.1)::

    chunked-body = *chunk last-chunk trailer-section CRLF
    chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    last-chunk   = 1*("0") [ chunk-ext ] CRLF

- The chunk size is hex digits only: no sign, no ``0x``, no inner spaces, at most
  ``MAX_CHUNK_SIZE_DIGITS`` of them (``int(x, 16)`` alone would take ``-5``, ``+5``, ``0x5``,
  ``5_0`` and surrounding whitespace).  Extensions after ``;`` are skipped; spaces or tabs
  before the ``;`` (the grammar's BWS) and before the CRLF (h11 tolerates them, some servers
  send them) are allowed.  A size line must end in CRLF, as h11 requires too.
- Chunk data is followed by exactly CRLF.
- The trailer section is field lines up to an empty line; like h11 (whose header reader this
  follows) it accepts LF as well as CRLF line ends there.  Trailer fields are checked and
  dropped.
- Bytes after the end are kept in ``surplus``: the connection must then not be reused.

Memory is bounded however the server misbehaves: a size line may not exceed
``MAX_SIZE_LINE`` bytes, nor the trailer section ``MAX_TRAILER_SIZE``; chunk data is never
buffered (each ``feed`` returns what it could decode).  Speed: whole buffers are searched with
one regular-expression match per chunk (the CRLF ending the data and the next size line
together) and one ``int(x, 16)``; no per-byte Python loop.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_CHUNK_SIZE_DIGITS",
    "MAX_SIZE_LINE",
    "MAX_TRAILER_SIZE",
    "ChunkedDecoder",
    "ChunkedError",
    "IncompleteChunkedBody",
]

#: Longest chunk-size line, extensions included, without its CRLF.  A size line is a few bytes;
#: h11 bounds it (with the response head) at 16 KiB, nginx at its 1 KiB header buffer.
MAX_SIZE_LINE: Final = 1024
#: Largest trailer section: h11 bounds any incomplete event at 16 KiB, http.client a header
#: block at 100 fields of 64 KiB; 64 KiB is the response-head bound the transports use.
MAX_TRAILER_SIZE: Final = 64 * 1024
#: Most hex digits in a chunk size: 16 is 2**64 - 1 (h11 allows 20, curl 16).
MAX_CHUNK_SIZE_DIGITS: Final = 16


class ChunkedError(Exception):
    """The chunked framing is malformed (or over a size limit).

    The message says what was wrong and where (body bytes decoded so far); it never quotes the
    bytes received.
    """


class IncompleteChunkedBody(ChunkedError):
    """The input ended (``end()``) before the last chunk and the trailer section."""


# chunk-ext as a token or quoted-string may hold any visible character, space or tab, never
# a control character.
_EXT = rb"(?:;[\t\x20-\x7e\x80-\xff]*)?"
# A size line with the CRLF that ends it; and the CRLF ending chunk data, then a size line.
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,%d})[ \t]*%s\r\n" % (MAX_CHUNK_SIZE_DIGITS, _EXT))
_NEXT_SIZE_LINE = re.compile(rb"\r\n" + _SIZE_LINE.pattern)
# What an incomplete size line may look like (so that junk is refused before its line end).
_SIZE_PREFIX = re.compile(rb"[0-9A-Fa-f]{0,%d}(?:[ \t]*%s\r?)?" % (MAX_CHUNK_SIZE_DIGITS, _EXT))
# One trailer field line (its line end removed), and an obsolete folded continuation line.
_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*")
_FOLD_LINE = re.compile(rb"[ \t][\t\x20-\x7e\x80-\xff]*")
_TRAILER_END = re.compile(rb"\n\r?\n")

# States.
_SIZE: Final = 0  # expecting a chunk-size line
_DATA: Final = 1  # inside chunk data (``_left`` bytes to go)
_DATA_END: Final = 2  # expecting the CRLF after chunk data
_TRAILER: Final = 3  # after the last chunk: trailer fields up to an empty line
_DONE: Final = 4


class ChunkedDecoder:
    """Removes the chunked transfer coding from a byte stream fed in arbitrary pieces.

    Attributes:
        surplus: bytes received after the end of the body (the connection is not reusable).
        decoded: body bytes returned so far.
        error: a framing error found by ``feed`` after body bytes it returned; the next
            ``feed`` or ``end`` raises it.  ``None`` otherwise.

    No body byte is lost to an error: when a piece turns bad part-way, ``feed`` returns the
    body bytes before that point and keeps the error for the next call (as ``SSEDecoder``
    does).  Once raised, an error is raised again by every later call.
    """

    __slots__ = ("_buf", "_left", "_scan", "_state", "decoded", "error", "surplus")

    def __init__(self) -> None:
        self._buf = b""  # undecoded bytes: a partial size line, CRLF or trailer section
        self._state = _SIZE
        self._left = 0  # chunk-data bytes still to come in state _DATA
        self._scan = 0  # where the search for the trailer's end resumes, from ``_buf[0]``
        self.error: ChunkedError | None = None
        self.decoded = 0
        self.surplus = b""

    @property
    def done(self) -> bool:
        """Whether the last chunk and the trailer section's final line end were read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> bytes:
        """Decode ``data`` (the next bytes received) as far as possible.

        Args:
            data: raw bytes of the chunked body, any length (``b""`` does nothing; EOF is
                said with ``end()``).

        Returns:
            The body bytes decodable so far, joined: ``b""`` while a piece of framing is still
            incomplete, and once the body ended (later bytes go to ``surplus``).

        Raises:
            ChunkedError: malformed framing, or a size line or trailer section over its limit
                (found in an earlier call, or in ``data`` before any body byte of it).
        """
        if self.error is not None:
            raise self.error
        if self._state == _DONE:
            self.surplus += data
            return b""
        buf = self._buf + data if self._buf else data
        n = len(buf)
        pos = 0
        out: list[bytes] = []
        state = self._state
        left = self._left
        match = _SIZE_LINE.match
        match_next = _NEXT_SIZE_LINE.match
        try:
            while True:
                if state == _DATA:
                    # The hot loop: chunk data, then its CRLF and the next size line in one
                    # match.  Anything unusual goes to the state machine below, at _DATA_END.
                    append = out.append
                    longest = MAX_SIZE_LINE + 4
                    while True:
                        end = pos + left
                        if end > n:  # the chunk goes on in the next piece
                            if pos < n:
                                append(buf[pos:])
                                left -= n - pos
                                pos = n
                            break
                        append(buf[pos:end])
                        m = match_next(buf, end)
                        if m is None:
                            pos = end
                            state = _DATA_END
                            break
                        pos = m.end()
                        if pos - end > longest:
                            pos = end
                            state = _DATA_END
                            break
                        left = int(m.group(1), 16)
                        if not left:
                            state = _TRAILER
                            break
                    if state == _DATA:
                        break
                if state == _DATA_END:
                    m = match_next(buf, pos)
                    if m is not None and m.end() - pos <= MAX_SIZE_LINE + 4:
                        left = int(m.group(1), 16)
                        pos = m.end()
                        if left:
                            state = _DATA
                            continue
                        state = _TRAILER
                    elif buf[pos : pos + 2] == b"\r\n":
                        pos += 2
                        state = _SIZE  # the size line is incomplete, too long or invalid
                    elif n - pos < 2 and buf[pos:] == b"\r"[: n - pos]:
                        break  # nothing yet, or just the CR
                    else:
                        raise ChunkedError("chunk data not followed by CRLF")
                if state == _SIZE:
                    m = match(buf, pos)
                    if m is None:
                        _check_partial_size_line(buf, pos)
                        break  # incomplete: wait for the rest of the line
                    end = m.end()
                    if end - pos > MAX_SIZE_LINE + 2:
                        raise ChunkedError(f"a chunk-size line over {MAX_SIZE_LINE} bytes")
                    left = int(m.group(1), 16)
                    pos = end
                    if left:
                        state = _DATA
                        continue
                    state = _TRAILER
                if state == _TRAILER:
                    end = self._trailer_end(buf, pos)
                    if end < 0:
                        break
                    state = _DONE
                    self.surplus = buf[end:]
                    pos = n
                break
        except ChunkedError as exc:
            decoded = self.decoded + sum(map(len, out))
            self.error = error = type(exc)(f"{exc} (after {decoded} body bytes)")
            if not out:
                raise error from None
            pos = n  # nothing more is decoded: the error is raised by the next call
        self._state = state
        self._left = left
        self._buf = buf[pos:] if pos < n else b""
        if not out:
            return b""
        body = out[0] if len(out) == 1 else b"".join(out)
        self.decoded += len(body)
        return body

    def end(self) -> None:
        """Say that the input ended (EOF).

        Raises:
            IncompleteChunkedBody: the body had not ended.
            ChunkedError: a malformed piece was found earlier (``error``).
        """
        if self.error is not None:
            raise self.error
        state = self._state
        if state == _DONE:
            return
        if state == _DATA:
            where = f"inside a chunk ({self._left} of its bytes missing)"
        elif state == _TRAILER:
            where = "in the trailer section"
        else:
            where = "before the last chunk"
        self.error = IncompleteChunkedBody(
            f"the chunked body ended {where}, after {self.decoded} body bytes"
        )
        raise self.error

    def _trailer_end(self, buf: bytes, pos: int) -> int:
        """Where the trailer section starting at ``pos`` ends, or -1 if not all received.

        Raises:
            ChunkedError: an invalid field line, or over ``MAX_TRAILER_SIZE``.
        """
        first = buf[pos : pos + 2]
        if first == b"\r\n":
            return pos + 2
        if first[:1] == b"\n":
            return pos + 1
        if first[:1] == b"\r" or not first:
            if len(first) < 2:
                return -1
            raise ChunkedError("a CR not followed by LF after the last chunk")
        limit = pos + MAX_TRAILER_SIZE + 3  # the section's last LF, then CR LF
        found = _TRAILER_END.search(buf, pos + self._scan, limit)
        if found is None:
            if len(buf) - pos > MAX_TRAILER_SIZE:
                raise ChunkedError(f"a trailer section over {MAX_TRAILER_SIZE} bytes")
            self._scan = max(0, len(buf) - pos - 2)
            return -1
        for i, line in enumerate(buf[pos : found.start()].split(b"\n")):
            if line.endswith(b"\r"):
                line = line[:-1]
            if not (_FIELD_LINE.fullmatch(line) or (i and _FOLD_LINE.fullmatch(line))):
                raise ChunkedError("an invalid trailer field line")
        return found.end()


def _check_partial_size_line(buf: bytes, pos: int) -> None:
    """No complete size line at ``pos``: raise unless it may still become one.

    Raises:
        ChunkedError: the line is complete but invalid, holds a bare LF or a control character,
            has too many hex digits, or is over ``MAX_SIZE_LINE`` without its end.
    """
    line = buf[pos : pos + MAX_SIZE_LINE + 2]
    if _SIZE_PREFIX.fullmatch(line):
        if len(line) > MAX_SIZE_LINE + 1:
            raise ChunkedError(f"a chunk-size line over {MAX_SIZE_LINE} bytes")
        return  # the start of a valid line
    digits = len(line) - len(line.lstrip(b"0123456789abcdefABCDEF"))
    if digits > MAX_CHUNK_SIZE_DIGITS:
        raise ChunkedError(f"a chunk size of over {MAX_CHUNK_SIZE_DIGITS} hex digits")
    if _SIZE_PREFIX.fullmatch(line[: MAX_SIZE_LINE + 1]) and b"\r\n" not in line:
        raise ChunkedError(f"a chunk-size line over {MAX_SIZE_LINE} bytes")
    raise ChunkedError("an invalid chunk-size line")
