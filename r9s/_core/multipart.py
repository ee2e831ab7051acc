"""``multipart/form-data`` request bodies, produced piece by piece (RFC 7578).

Rule: a ``MultipartBody`` never holds a file in memory.  It is built once, from ordered fields,
and knows its exact length in advance whenever every file's size is known (bytes; a path, by
``os.stat``; a seekable file, from its current offset to its end).  ``pieces()`` then yields the
body: part heads and text values as they are, file content read 256 KiB at a time when the
iteration reaches it.  A 200 MB audio file costs 256 KiB of memory, not 200 MB.  The module
reads files -- that is its job -- but touches no socket: it is a ``StreamedBody``
(``r9s._core.request``), which any transport sends.

On the wire (the published ``r9s`` package, through httpx, sends the same bytes)::

    --<boundary>CRLF
    Content-Disposition: form-data; name="model"CRLF
    CRLF
    whisper-1CRLF
    --<boundary>CRLF
    Content-Disposition: form-data; name="file"; filename="speech.mp3"CRLF
    Content-Type: audio/mpeg CRLF
    CRLF
    <the file's bytes>CRLF
    --<boundary>--CRLF

Boundary: 32 lowercase hex digits from ``os.urandom(16)``, 128 random bits.  When it occurs in
a text value, or in file content given as bytes, another one is drawn (``_BOUNDARY_TRIES``).
Content read from a path or a file object is not searched (that would mean reading it twice);
the chance that 128 random bits occur in n bytes of it is about n / 2**128: never in practice.

Names and filenames can never forge a part header (they go into a quoted parameter of the
``Content-Disposition`` line):

- CR, LF and NUL are refused with ``ValueError`` when the body is built, before anything is
  sent (WHATWG would percent-encode CR and LF; a name that needs them is a bug or an attack,
  and refusing says so);
- ``"`` becomes ``%22``: the WHATWG HTML "multipart/form-data encoding algorithm" rule, as
  browsers do (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html
  #multipart/form-data-encoding-algorithm);
- ``\\`` is doubled: a quoted-pair (RFC 9110 section 5.6.4), so that parsers which unescape
  quoted strings (Python's ``email``, ``multipart``, werkzeug) read the name back unchanged and
  a name ending in ``\\`` cannot escape its closing quote;
- the other C0 controls but ESC become ``%XX``, as the published package sends them;
- anything else, non-ASCII included, goes out as UTF-8, as browsers send it.

A ``Content-Type`` given for a file must hold no CR, LF or NUL either.  Without one it is
guessed from the filename (``mimetypes``, else ``application/octet-stream``), as the
published package does.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Protocol, Union

from r9s._core.request import BodyReadError

__all__ = [
    "CHUNK_SIZE",
    "FieldValue",
    "FileLike",
    "FileModel",
    "FilePart",
    "MultipartBody",
    "Readable",
]

#: Bytes read from a file per piece: the unit of memory and of blocking.  The async transport
#: runs each read on the event loop: 256 KiB from the page cache took 16 us (median; p99
#: 80 us) here, while a thread hop (``anyio.to_thread``) cost 80-100 us per read.  Pieces of
#: 64 KiB halved the async upload speed (1.2 vs 2.1 GB/s over loopback): the per-piece cost
#: of an awaited send dominates; 1 MiB gained little more and doubles the memory.
CHUNK_SIZE: Final = 256 * 1024
#: Bytes content up to this size is copied into the body's fixed parts when it is built.
_INLINE_LIMIT: Final = 64 * 1024
#: How many random boundaries are drawn before giving up (each one clashing is a 2**-128 event).
_BOUNDARY_TRIES: Final = 8
#: A boundary as RFC 2046 section 5.1.1 allows it (for a caller-chosen one; no trailing space).
_BOUNDARY_RE: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}")
#: Characters that never go into a part header: refused.
_FORBIDDEN: Final = re.compile(r"[\r\n\x00]")
#: Characters escaped in a quoted name or filename (see the module docstring).
_ESCAPED: Final = re.compile(r'["\\\x01-\x09\x0b\x0c\x0e-\x1a\x1c-\x1f]')
_DEFAULT_FILENAME: Final = "upload"


class Readable(Protocol):
    """A binary file object, as far as an upload needs one: ``read(size)`` returning bytes."""

    def read(self, size: int, /) -> bytes: ...


class FileModel(Protocol):
    """The published package's ``File`` / ``ImageFile`` models: ``file_name`` and ``content``
    (``content_type`` is read too when present)."""

    @property
    def file_name(self) -> str: ...

    @property
    def content(self) -> Any: ...


#: A text field's value: ``bool`` as ``true`` / ``false``, numbers as ``str()`` writes them,
#: bytes as they are.
Scalar = Union[str, int, float, bool, bytes, bytearray]
#: A file: a ``FilePart``, the published package's ``{"file_name", "content", "content_type"}``,
#: a path (``os.PathLike``: a ``str`` is always text, never a path), or an open binary file.
FileLike = Union["FilePart", Mapping[str, Any], "os.PathLike[str]", Readable, FileModel]
#: A field's value: a scalar, a file, or a list of them (one part each, same name); ``None``
#: leaves the field out.
FieldValue = Union[Scalar, FileLike, list[Any], tuple[Any, ...], None]


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\\":
        return "\\\\"
    return f"%{ord(char):02X}"


def _quoted(what: str, value: str) -> bytes:
    """``value`` as the content of a quoted ``name`` / ``filename`` parameter, UTF-8.

    Raises:
        ValueError: ``value`` holds CR, LF or NUL.
    """
    if _FORBIDDEN.search(value):
        raise ValueError(f"a multipart {what} must not contain CR, LF or NUL: {value!r}")
    return _ESCAPED.sub(_escape, value).encode("utf-8", "surrogateescape")


class FilePart:
    """A file to upload as one part.

    Args:
        content: the bytes themselves, a path (``os.PathLike``), or a binary file object open
            for reading (read from its current offset).
        filename: the ``filename`` sent; by default the path's or the file object's base name,
            else ``"upload"``.
        content_type: the part's ``Content-Type``; by default guessed from the filename.
    """

    __slots__ = ("content", "content_type", "filename")

    def __init__(
        self,
        content: bytes | bytearray | memoryview | os.PathLike[str] | Readable,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.content = content
        self.filename = filename
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"FilePart(filename={self.filename!r}, content_type={self.content_type!r})"


# -- file sources ------------------------------------------------------------------------------


class _Source:
    """Where a file part's content comes from; ``read()`` yields it from its start each time."""

    __slots__ = ("label", "length", "rewindable")

    label: str
    length: int | None
    rewindable: bool

    def read(self) -> Iterator[bytes]:
        raise NotImplementedError


class _BytesSource(_Source):
    """Content given as bytes, larger than ``_INLINE_LIMIT``: yielded in ``CHUNK_SIZE`` slices."""

    __slots__ = ("data",)

    def __init__(self, data: bytes, label: str) -> None:
        self.data = data
        self.label = label
        self.length = len(data)
        self.rewindable = True

    def read(self) -> Iterator[bytes]:
        data = self.data
        for start in range(0, len(data), CHUNK_SIZE):
            yield data[start : start + CHUNK_SIZE]


class _PathSource(_Source):
    """A file named by a path: opened anew for every read, its size taken when the body is built.

    A regular file has a known size and can be read again; anything else (a FIFO, a device)
    is read once, to its end, with the length unknown.
    """

    __slots__ = ("path", "size")

    def __init__(self, path: str, label: str) -> None:
        info = os.stat(path)  # FileNotFoundError, PermissionError: before anything is sent
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"cannot upload a directory: {path!r}")
        self.path = path
        self.label = label
        regular = stat.S_ISREG(info.st_mode)
        self.size: int | None = info.st_size if regular else None
        self.length = self.size
        self.rewindable = regular

    def read(self) -> Iterator[bytes]:
        try:
            f = open(self.path, "rb", buffering=0)
        except OSError as exc:
            raise BodyReadError(f"{self.label}: cannot open the file: {exc}") from exc
        with f:
            size = self.size
            if size is not None:
                now = os.fstat(f.fileno()).st_size
                if now != size:
                    raise BodyReadError(
                        f"{self.label}: the file is {now} bytes now, {size} when the request "
                        "body was built"
                    )
            yield from _read_file(f, size, self.label)


class _StreamSource(_Source):
    """An open binary file: read from the offset it had when the body was built.

    Seekable: its length is known (from that offset to the end) and every read seeks back to
    the offset first.  Not seekable (a pipe, a socket file, a generator-like object with
    ``read``): read once, to its end, with the length unknown.
    """

    __slots__ = ("file", "start")

    def __init__(self, file: Any, label: str) -> None:
        if isinstance(file, io.TextIOBase):
            raise TypeError(f"{label}: the file must be opened in binary mode ('rb'), not text")
        self.file = file
        self.label = label
        self.start: int | None = None
        self.length = None
        self.rewindable = False
        seekable = getattr(file, "seekable", None)
        try:
            if callable(seekable) and seekable():
                start = file.tell()
                end = file.seek(0, io.SEEK_END)
                file.seek(start)
                self.start = start
                self.length = max(0, end - start)
                self.rewindable = True
        except (OSError, AttributeError):  # io.UnsupportedOperation is an OSError
            self.start = None

    def read(self) -> Iterator[bytes]:
        if self.start is not None:
            try:
                self.file.seek(self.start)
            except (OSError, ValueError) as exc:
                raise BodyReadError(f"{self.label}: cannot seek the file back: {exc}") from exc
        yield from _read_file(self.file, self.length, self.label)


def _read_file(file: Any, length: int | None, label: str) -> Iterator[bytes]:
    """``length`` bytes of ``file`` (all of it when ``None``), ``CHUNK_SIZE`` at most per piece.

    Raises:
        BodyReadError: a read failed or returned text, the file ended early, or it held more
            than ``length`` bytes (it changed since the body was built).
    """
    read = file.read
    left = length
    done = 0
    while left is None or left > 0:
        try:
            piece = read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
        except (OSError, ValueError) as exc:
            raise BodyReadError(f"{label}: reading the file failed: {exc}") from exc
        if piece is None:  # a non-blocking raw file with nothing ready
            raise BodyReadError(f"{label}: the file is non-blocking and had no data ready")
        if not isinstance(piece, bytes):
            if isinstance(piece, str):
                raise BodyReadError(f"{label}: the file must be opened in binary mode ('rb')")
            piece = bytes(piece)
        if not piece:
            if left is None:
                return
            raise BodyReadError(
                f"{label}: the file ended after {done} of {length} bytes "
                "(it shrank since the request body was built)"
            )
        done += len(piece)
        if left is not None:
            left -= len(piece)
        yield piece
    try:
        extra = read(1)
    except (OSError, ValueError) as exc:
        raise BodyReadError(f"{label}: reading the file failed: {exc}") from exc
    if extra:
        raise BodyReadError(
            f"{label}: the file holds more than its {length} bytes "
            "(it grew since the request body was built)"
        )


# -- the body ----------------------------------------------------------------------------------


class _Part:
    __slots__ = ("content", "head")

    def __init__(self, head: bytes, content: bytes | _Source) -> None:
        self.head = head  # from "Content-Disposition" to the blank line, without the boundary
        self.content = content


class MultipartBody:
    """A ``multipart/form-data`` body, a ``StreamedBody`` (see the module docstring).

    Args:
        fields: ``(name, value)`` pairs in order, or a mapping (its order).  A value is a
            ``str`` / ``int`` / ``float`` / ``bool`` / bytes (a text field), a file (a
            ``FilePart``, a ``{"file_name", "content", "content_type"}`` mapping, an object
            with ``file_name`` and ``content`` attributes, an ``os.PathLike`` path, or an open
            binary file), a list or tuple of those (one part each, under the same name, as
            the published package sends ``timestamp_granularities``), or ``None`` (left out).
        boundary: the boundary to use instead of a random one (tests, reproducible bodies).

    Attributes:
        boundary: the boundary (``str``).
        content_type: the request's ``Content-Type``: ``multipart/form-data; boundary=...``.
        length: the body's exact size in bytes, or ``None`` when a file's size is unknown.
        rewindable: whether ``pieces()`` may be called again (every file is bytes, a regular
            file's path, or a seekable file object).

    Raises:
        ValueError: a name, filename or content type holding CR, LF or NUL; a file with an
            empty filename; a ``boundary`` that is not valid or occurs in the content.
        TypeError: a value of no kind above, a file object opened in text mode, a nested list.
        OSError: a path that does not exist or cannot be read (``FileNotFoundError``...).
    """

    __slots__ = ("_parts", "_segments", "_used", "boundary", "content_type", "length", "rewindable")

    def __init__(
        self,
        fields: Mapping[str, FieldValue] | Iterable[tuple[str, FieldValue]],
        *,
        boundary: str | None = None,
    ) -> None:
        items = fields.items() if isinstance(fields, Mapping) else fields
        parts: list[_Part] = []
        for name, value in items:
            if not isinstance(name, str):
                raise TypeError(f"a multipart field name must be a str, not {type(name).__name__}")
            if isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, (list, tuple)):
                        raise TypeError(f"field {name!r}: a list inside a list cannot be sent")
                    if item is not None:
                        parts.append(_part(name, item))
            elif value is not None:
                parts.append(_part(name, value))
        self._parts = parts
        self.boundary = _choose_boundary(boundary, parts)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self._segments = _segments(self.boundary.encode("ascii"), parts)
        sizes = [s.length if isinstance(s, _Source) else len(s) for s in self._segments]
        self.length: int | None = None if None in sizes else sum(s or 0 for s in sizes)
        self.rewindable = all(s.rewindable for s in self._segments if isinstance(s, _Source))
        self._used = False

    def pieces(self) -> Iterator[bytes]:
        """The body from its start: fixed bytes as they are, file content ``CHUNK_SIZE`` per piece.

        Raises:
            BodyReadError: the body is not rewindable and was produced once already; or,
                while iterating, a file could not be read or changed size.
        """
        if self._used and not self.rewindable:
            raise BodyReadError(
                "this multipart body reads a file that cannot be rewound (not seekable) "
                "and was already sent once"
            )
        self._used = True
        return self._generate()

    def _generate(self) -> Iterator[bytes]:
        pending = b""  # fixed bytes, sent with the next piece of file content
        for segment in self._segments:
            if isinstance(segment, bytes):
                pending += segment
                continue
            for piece in segment.read():
                if pending:
                    piece = pending + piece
                    pending = b""
                yield piece
        if pending:
            yield pending

    def __repr__(self) -> str:
        size = "length unknown" if self.length is None else f"{self.length} bytes"
        return f"<MultipartBody {len(self._parts)} parts, {size}>"


def _part(name: str, value: Any) -> _Part:
    """One part for ``value`` under ``name`` (neither ``None`` nor a list)."""
    disposition = b'Content-Disposition: form-data; name="' + _quoted("field name", name) + b'"'
    if isinstance(value, bool):
        return _Part(disposition, b"true" if value else b"false")
    if isinstance(value, str):
        return _Part(disposition, value.encode("utf-8"))
    if isinstance(value, (int, float)):
        return _Part(disposition, str(value).encode("ascii"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _Part(disposition, bytes(value))
    content, filename, content_type = _file_fields(name, value)
    label = f"file part {name!r}"
    source: bytes | _Source
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        source = data if len(data) <= _INLINE_LIMIT else _BytesSource(data, label)
        default = _DEFAULT_FILENAME
    elif isinstance(content, os.PathLike):
        path = os.fsdecode(os.fspath(content))
        source = _PathSource(path, f"{label} ({path})")
        default = os.path.basename(path) or _DEFAULT_FILENAME
    elif callable(getattr(content, "read", None)):
        source = _StreamSource(content, label)
        fname = getattr(content, "name", None)
        default = os.path.basename(fname) if isinstance(fname, str) and fname else ""
        default = default or _DEFAULT_FILENAME
    else:
        raise TypeError(
            f"file part {name!r}: content must be bytes, an os.PathLike path or a binary "
            f"file object, not {type(content).__name__}"
        )
    if filename is None:
        filename = default
    if not isinstance(filename, str) or not filename:
        raise ValueError(f"file part {name!r}: the filename must be a non-empty str")
    if content_type is None:
        content_type = _guess_type(filename)
    elif not isinstance(content_type, str):
        raise TypeError(f"file part {name!r}: content_type must be a str")
    elif _FORBIDDEN.search(content_type):
        raise ValueError(f"file part {name!r}: the content type must not contain CR, LF or NUL")
    head = (
        disposition
        + b'; filename="'
        + _quoted("filename", filename)
        + b'"\r\nContent-Type: '
        + content_type.encode("utf-8")
    )
    return _Part(head, source)


def _file_fields(name: str, value: Any) -> tuple[Any, Any, Any]:
    """``(content, filename, content_type)`` of a file value, in any of its accepted shapes."""
    if isinstance(value, FilePart):
        return value.content, value.filename, value.content_type
    if isinstance(value, Mapping):
        unknown = set(value) - {"file_name", "content", "content_type"}
        if unknown or "content" not in value:
            raise TypeError(
                f"file part {name!r}: a file mapping has the keys 'file_name', 'content' and "
                f"optionally 'content_type' (got {sorted(map(str, value))})"
            )
        return value["content"], value.get("file_name"), value.get("content_type")
    if isinstance(value, os.PathLike) or callable(getattr(value, "read", None)):
        return value, None, None
    if hasattr(value, "file_name") and hasattr(value, "content"):  # the published package's File
        return value.content, value.file_name, getattr(value, "content_type", None)
    raise TypeError(
        f"field {name!r}: cannot send a {type(value).__name__} in a multipart body (a str is "
        "text, never a path: pass a pathlib.Path to upload a file)"
    )


def _guess_type(filename: str) -> str:
    import mimetypes  # only when a file part has no content type given

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _choose_boundary(given: str | None, parts: list[_Part]) -> str:
    """The caller's boundary (checked), or a random one not found in the known content.

    Raises:
        ValueError: ``given`` is not a valid boundary, or occurs in the content.
    """
    known = [p.content for p in parts if isinstance(p.content, bytes)]
    known += [p.content.data for p in parts if isinstance(p.content, _BytesSource)]
    if given is not None:
        if not isinstance(given, str) or not _BOUNDARY_RE.fullmatch(given):
            raise ValueError(
                "a multipart boundary is 1 to 70 characters: letters, digits and '()+_,-./:=?"
            )
        if any(given.encode("ascii") in c for c in known):
            raise ValueError("the multipart boundary occurs in the content it would delimit")
        return given
    for _ in range(_BOUNDARY_TRIES):
        candidate = os.urandom(16).hex()
        marker = candidate.encode("ascii")
        if not any(marker in c for c in known):
            return candidate
    raise ValueError(  # pragma: no cover - 8 clashes of 128 random bits
        "no multipart boundary could be found that does not occur in the content"
    )


def _segments(boundary: bytes, parts: list[_Part]) -> list[bytes | _Source]:
    """The body as fixed bytes (adjacent ones joined) and file sources, in order."""
    segments: list[bytes | _Source] = []
    fixed: list[bytes] = []
    for part in parts:
        fixed += (b"--", boundary, b"\r\n", part.head, b"\r\n\r\n")
        if isinstance(part.content, bytes):
            fixed.append(part.content)
        else:
            segments.append(b"".join(fixed))
            fixed = []
            segments.append(part.content)
        fixed.append(b"\r\n")
    fixed += (b"--", boundary, b"--\r\n")
    segments.append(b"".join(fixed))
    return [s for s in segments if not isinstance(s, bytes) or s]
