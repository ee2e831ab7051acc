"""A streaming ``multipart/form-data`` parser for the test server (RFC 7578, RFC 2046).

Why a parser of its own: the server must check uploads byte for byte (what each part's name,
filename, content type, size and SHA-256 were, in which order) without holding them: the SDK's
benchmark uploads 100 MB files.  ``FormParser`` is fed the body as it arrives, hashes every part
as it goes and keeps only text fields (up to ``MAX_FIELD`` bytes each) and the first
``FILE_PREFIX`` bytes of each file, so its memory is bounded whatever the upload's size.  The
standard library's ``email`` parser wants the whole message; it is not used.

A body the parser cannot read (no boundary, no closing delimiter, a part without
``Content-Disposition: form-data; name=...``, a header block or field too large) makes
``result()`` raise ``FormError`` with a message saying what is wrong; the rest of the body is
still consumed (and ignored), so the connection stays usable.

Quoted parameters are read as RFC 9110 quoted strings: a backslash escapes the next character
(what the SDK's encoder does to ``\\``); ``%22`` for ``"`` is left as it is (a server cannot
know a literal ``%22`` from an escaped quote).  Header bytes are decoded as UTF-8.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

__all__ = [
    "FILE_PREFIX",
    "MAX_FIELD",
    "Form",
    "FormError",
    "FormParser",
    "Part",
    "boundary_of",
]

#: Largest text field kept (a longer one is an error).
MAX_FIELD: Final = 1024 * 1024
#: Bytes kept of each file part (the rest is only counted and hashed).
FILE_PREFIX: Final = 64 * 1024
#: Largest header block of one part.
MAX_PART_HEAD: Final = 16 * 1024
#: Most parts in one body.
MAX_PARTS: Final = 1000
#: Largest preamble (bytes before the first delimiter) before the body is refused.
MAX_PREAMBLE: Final = 64 * 1024

_PREAMBLE: Final = 0
_AFTER_DELIMITER: Final = 1
_HEAD: Final = 2
_BODY: Final = 3
_DONE: Final = 4
_FAILED: Final = 5


class FormError(Exception):
    """A body that is not valid ``multipart/form-data``; the message says why."""


def boundary_of(content_type: str) -> str | None:
    """The ``boundary`` parameter of a ``multipart/form-data`` content type.

    Args:
        content_type: the request's ``Content-Type`` value.

    Returns:
        The boundary (unquoted), or None when the type is not ``multipart/form-data`` or has
        no usable boundary (1 to 70 characters, RFC 2046).
    """
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    params = _parameters(rest)
    boundary = params.get("boundary")
    if boundary is None or not 0 < len(boundary) <= 70 or not boundary.isascii():
        return None
    return boundary


def _parameters(text: str) -> dict[str, str]:
    """``; name=value; name="quoted \\" value"`` into a dict (names lower-cased).

    One pass over the characters: a quoted value ends at an unescaped quote, a token at ``;``.
    """
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t;":
            i += 1
        start = i
        while i < n and text[i] not in "=;":
            i += 1
        name = text[start:i].strip().lower()
        if i >= n or text[i] == ";":
            if name:
                params.setdefault(name, "")
            continue
        i += 1  # "="
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            out: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            i += 1  # the closing quote (or the end)
            value = "".join(out)
        else:
            start = i
            while i < n and text[i] != ";":
                i += 1
            value = text[start:i].strip()
        if name:
            params.setdefault(name, value)
    return params


class Part:
    """One part as received: its name, filename and type, size and SHA-256, some content."""

    __slots__ = ("_hash", "content_type", "data", "filename", "name", "size")

    def __init__(self, name: str, filename: str | None, content_type: str | None) -> None:
        self.name = name
        #: None for a text field (no ``filename`` parameter).
        self.filename = filename
        self.content_type = content_type
        self.size = 0
        #: A text field's whole value; a file's first ``FILE_PREFIX`` bytes.
        self.data = bytearray()
        self._hash = hashlib.sha256()

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the part's content."""
        return self._hash.hexdigest()

    def _add(self, data: bytes | memoryview) -> None:
        if not data:
            return
        self.size += len(data)
        self._hash.update(data)
        if self.filename is None:
            if self.size > MAX_FIELD:
                raise FormError(
                    f"the field {self.name!r} is larger than the server accepts "
                    f"({MAX_FIELD} bytes; send it as a file)"
                )
            self.data += data
        elif len(self.data) < FILE_PREFIX:
            self.data += data[: FILE_PREFIX - len(self.data)]

    def text(self) -> str:
        """A text field's value, decoded as UTF-8 (undecodable bytes replaced)."""
        return bytes(self.data).decode("utf-8", "replace")

    def describe(self) -> dict[str, Any]:
        """The part as the server echoes a file: name, filename, content type, size, SHA-256."""
        return {
            "name": self.name,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


class Form:
    """A parsed body: its parts in order."""

    __slots__ = ("parts", "size")

    def __init__(self, parts: list[Part], size: int) -> None:
        self.parts = parts
        #: The body's size in bytes.
        self.size = size

    def fields(self) -> dict[str, str | list[str]]:
        """The text fields: a name sent once maps to its value, a repeated one to a list."""
        out: dict[str, str | list[str]] = {}
        for part in self.parts:
            if part.is_file:
                continue
            value = part.text()
            had = out.get(part.name)
            if had is None:
                out[part.name] = value
            elif isinstance(had, list):
                had.append(value)
            else:
                out[part.name] = [had, value]
        return out

    def field(self, name: str) -> str | None:
        """The (first) value of a text field, or None."""
        for part in self.parts:
            if part.name == name and not part.is_file:
                return part.text()
        return None

    def values(self, *names: str) -> list[str]:
        """Every value of the text fields with one of these names, in order."""
        return [p.text() for p in self.parts if p.name in names and not p.is_file]

    def files(self, *names: str) -> list[Part]:
        """The file parts with one of these names, in order (every file part when none)."""
        return [p for p in self.parts if p.is_file and (not names or p.name in names)]

    def received(self) -> dict[str, Any]:
        """What arrived, as the server echoes it: ``fields``, ``files``, ``order``."""
        return {
            "fields": self.fields(),
            "files": [p.describe() for p in self.parts if p.is_file],
            "order": [p.name for p in self.parts],
        }


class FormParser:
    """Parses a body fed piece by piece; ``result()`` once the body has ended.

    Memory: the pieces being searched (one piece plus a delimiter's length), text fields, and
    ``FILE_PREFIX`` bytes per file.
    """

    __slots__ = ("_buf", "_delimiter", "_error", "_opening", "_part", "_parts", "_state", "size")

    def __init__(self, boundary: str) -> None:
        self._opening = b"--" + boundary.encode("ascii")
        self._delimiter = b"\r\n" + self._opening
        self._buf = b""
        self._state = _PREAMBLE
        self._parts: list[Part] = []
        self._part: Part | None = None
        self._error: FormError | None = None
        #: Body bytes fed so far.
        self.size = 0

    def feed(self, data: bytes) -> None:
        """Take the next piece of the body (after an error, pieces are only counted)."""
        self.size += len(data)
        if self._state >= _DONE:
            return
        try:
            self._feed(data)
        except FormError as exc:
            self._error = exc
            self._state = _FAILED
            self._buf = b""

    def result(self) -> Form:
        """The form, once the whole body was fed.

        Raises:
            FormError: the body is not valid ``multipart/form-data``.
        """
        if self._error is not None:
            raise self._error
        if self._state != _DONE:
            if self._state == _PREAMBLE:
                raise FormError(
                    "the multipart body holds no part: its boundary "
                    f"{self._opening[2:].decode()!r} (from the Content-Type) never occurs"
                )
            raise FormError("the multipart body ends before its closing boundary")
        return Form(self._parts, self.size)

    def _feed(self, data: bytes) -> None:
        if self._state == _BODY:
            # The common case, inside a big file: search the new bytes where they are instead
            # of joining them to the kept tail first (a copy of every piece).
            rest = self._body_piece(data)
            if rest is None:
                return
            buf = rest
        else:
            buf = self._buf + data if self._buf else data
        # Each pass consumes bytes or returns; the state machine moves forward only.
        while True:
            state = self._state
            if state == _BODY:
                buf = self._body(buf)
                if self._state == _BODY:
                    break
            elif state == _PREAMBLE:
                buf = self._preamble(buf)
                if self._state == _PREAMBLE:
                    break
            elif state == _AFTER_DELIMITER:
                if len(buf) < 2:
                    break
                if buf[:2] == b"--":
                    self._state = _DONE
                    buf = b""  # the epilogue is ignored
                    break
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > 256:
                        raise FormError("a multipart delimiter line does not end with CRLF")
                    break
                if buf[:end].strip(b" \t"):
                    raise FormError("a multipart delimiter is followed by other text")
                buf = buf[end + 2 :]
                self._state = _HEAD
            elif state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if buf[:2] == b"\r\n":
                    raise FormError("a multipart part has no headers (no Content-Disposition)")
                if end < 0:
                    if len(buf) > MAX_PART_HEAD:
                        raise FormError(
                            f"a multipart part's header block is over {MAX_PART_HEAD} bytes"
                        )
                    break
                self._start_part(buf[:end])
                buf = buf[end + 4 :]
                self._state = _BODY
            else:
                buf = b""
                break
        self._buf = buf

    def _preamble(self, buf: bytes) -> bytes:
        opening = self._opening
        if buf.startswith(opening):
            at = 0
        else:
            at = buf.find(self._delimiter)
            if at < 0:
                keep = len(self._delimiter) - 1
                if self.size > MAX_PREAMBLE + keep:
                    raise FormError(
                        "the multipart body does not start with its boundary "
                        f"{opening[2:].decode()!r} (from the Content-Type)"
                    )
                return buf[-keep:]
            at += 2
        if self.size - len(buf) + at > MAX_PREAMBLE:
            raise FormError(
                "the multipart body does not start with its boundary "
                f"{opening[2:].decode()!r} (from the Content-Type)"
            )
        self._state = _AFTER_DELIMITER
        return buf[at + len(opening) :]

    def _body_piece(self, data: bytes) -> bytes | None:
        """Feed a new piece to the current part; the bytes after its end, or None."""
        part = self._part
        assert part is not None
        delimiter = self._delimiter
        tail = self._buf
        keep = len(delimiter) - 1
        if tail:
            # A delimiter that starts in the kept tail ends within the piece's first bytes.
            joint = tail + data[:keep]
            at = joint.find(delimiter)
            if at >= 0:
                part._add(joint[:at])
                self._buf = b""
                self._part = None
                self._state = _AFTER_DELIMITER
                return joint[at + len(delimiter) :] + data[keep:]
            if len(data) < keep:
                # Too short to rule out a delimiter starting in the tail: keep joint's end.
                if len(joint) > keep:
                    part._add(joint[:-keep])
                    joint = joint[-keep:]
                self._buf = joint
                return None
            part._add(tail)
            self._buf = b""
        at = data.find(delimiter)
        if at < 0:
            if len(data) > keep:
                cut = len(data) - keep
                part._add(memoryview(data)[:cut])
                self._buf = data[cut:]
            else:
                self._buf = data
            return None
        part._add(memoryview(data)[:at])
        self._part = None
        self._state = _AFTER_DELIMITER
        return data[at + len(delimiter) :]

    def _body(self, buf: bytes) -> bytes:
        part = self._part
        assert part is not None
        at = buf.find(self._delimiter)
        if at < 0:
            keep = len(self._delimiter) - 1
            if len(buf) > keep:
                cut = len(buf) - keep
                # A CR near the end may start the delimiter: keep from there.
                part._add(memoryview(buf)[:cut])
                return buf[cut:]
            return buf
        part._add(memoryview(buf)[:at])
        self._part = None
        self._state = _AFTER_DELIMITER
        return buf[at + len(self._delimiter) :]

    def _start_part(self, head: bytes) -> None:
        if len(self._parts) >= MAX_PARTS:
            raise FormError(f"the multipart body has more than {MAX_PARTS} parts")
        text = head.decode("utf-8", "replace")
        headers: dict[str, str] = {}
        for line in text.split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise FormError(f"a multipart part has a malformed header line {line[:80]!r}")
            headers.setdefault(name.strip().lower(), value.strip())
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise FormError("a multipart part has no Content-Disposition header")
        kind, _, rest = disposition.partition(";")
        if kind.strip().lower() != "form-data":
            raise FormError(
                f"a multipart part's Content-Disposition is {kind.strip()!r}, not form-data"
            )
        params = _parameters(rest)
        name = params.get("name", "")
        if not name:
            raise FormError("a multipart part's Content-Disposition has no name")
        part = Part(name, params.get("filename"), headers.get("content-type"))
        self._parts.append(part)
        self._part = part
