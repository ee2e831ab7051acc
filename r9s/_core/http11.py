"""HTTP/1.1 response heads, sans-IO: bytes in, status line and header fields out, no I/O.

Rule 1: this module never touches a socket.  A transport feeds it the bytes that arrive after it
sent a request; once a whole response head is there, ``ResponseHeadParser.feed`` returns it (and
the transport keeps the bytes after it, ``trailing``: the start of the body).  At EOF it calls
``end()``.  ``body_framing`` then says how the body is delimited and whether the connection may
carry another request.  The stdlib transport uses it instead of ``http.client``'s head parser,
which costs ``email.feedparser`` and a dozen method calls per response, accepts a line without a
colon by dropping it and every field after it, and leaves Content-Length checks to the caller.

The rules (RFC 9112 sections 2-6, https://www.rfc-editor.org/rfc/rfc9112), strict where framing
or safety is at stake, and otherwise as lenient as h11 (the async transport's parser), so that
both transports accept the same answers:

- The status line is ``HTTP/1.x SP 3DIGIT [SP reason]`` (a missing reason is accepted, as h11
  and http.client do); the code is 100..999.  Another major version (``HTTP/2.0``, ``SPDY/3``),
  a missing version, non-digit codes or a control character (other than HTAB) in the reason
  are refused.  Junk that cannot start a status line is refused as soon as its first bytes
  (or its first line) arrived, not after ``MAX_HEAD_SIZE``.
- Line ends are CRLF or a bare LF, wherever h11 accepts them (it splits the head on LF and drops
  one CR before it); the head ends at the first empty line.  A lone CR inside a line is refused,
  and so is an empty line before the status line.
- A field line is ``token ":" OWS value OWS``: whitespace between the name and the colon is
  refused (RFC 9112 section 5.1), and so is a line without a colon (http.client drops it, and
  every field after it, silently).  A value holds no NUL, CR, LF, VT or FF (h11's rule; RFC 9110
  section 5.5 requires refusing NUL, CR and LF); other control characters are kept, as RFC 9110
  allows and h11 does.
- obs-fold (a line starting with SP or HTAB continues the field before it) is replaced by one SP,
  as RFC 9112 section 5.2 requires of a user agent, and as h11 does; a continuation line before
  any field is refused.
- Interim ``1xx`` heads (``100 Continue``, ``103 Early Hints``) are skipped; ``101 Switching
  Protocols`` is returned (it ends HTTP on the connection: no body, never reused).

Memory is bounded however the server misbehaves: each head (status line, fields and line ends)
is at most ``MAX_HEAD_SIZE`` bytes with at most ``MAX_FIELDS`` field lines, and at most
``MAX_INTERIM_HEADS`` interim heads may come before the final one.  Speed: one search for the
head's end per feed, one latin-1 decode and one split per head, one regular-expression match
per line; no per-byte Python loop.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = [
    "MAX_FIELDS",
    "MAX_HEAD_SIZE",
    "MAX_INTERIM_HEADS",
    "Framing",
    "HeadError",
    "IncompleteHead",
    "ResponseHead",
    "ResponseHeadParser",
    "body_framing",
    "keep_alive",
]

#: Largest response head, status line to the empty line: h11 bounds it at 16 KiB, nginx's
#: largest header buffers are 4 x 8 KiB, http.client allows 100 lines of 64 KiB each.
MAX_HEAD_SIZE: Final = 64 * 1024
#: Most field lines in one head (obs-fold continuation lines included): http.client's limit.
MAX_FIELDS: Final = 100
#: Most interim (1xx) heads before the final one; a server needs one or two.
MAX_INTERIM_HEADS: Final = 16
#: Most digits in a Content-Length (h11's limit; 10**20 bytes is far past any body).
MAX_CONTENT_LENGTH_DIGITS: Final = 20


class HeadError(Exception):
    """The response head is malformed, over a limit, or its framing cannot be used.

    The message says what was wrong (a field's name at most), never a header value.
    """


class IncompleteHead(HeadError):
    """The input ended (``end()``) before a whole head arrived.

    Attributes:
        received: bytes received before the end (``0``: the peer sent nothing at all).
    """

    def __init__(self, message: str, received: int) -> None:
        super().__init__(message)
        self.received = received

    def __reduce__(self) -> tuple[type[IncompleteHead], tuple[str, int]]:
        return type(self), (str(self), self.received)


class ResponseHead(NamedTuple):
    """A final response head (a named tuple: ``dataclasses`` would cost the sync path's first
    call the import of ``inspect``, ``ast`` and ``dis``).

    Attributes:
        status: the status code, 200..999, or 101.
        reason: the reason phrase (``""`` when absent).
        http_version: ``"1.0"`` or ``"1.1"`` (``HTTP/1.2`` and later minor versions are
            treated as 1.1, RFC 9110 section 2.5).
        headers: the field lines as ``(name, value)``, in order, names in their original case,
            values without surrounding whitespace, obs-fold replaced by SP.
        consumed: bytes of this head, and of the interim heads before it, counted from the first
            byte fed.
    """

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    consumed: int


class Framing(NamedTuple):
    """How a response body is delimited (RFC 9112 section 6.3)."""

    #: Body bytes when the length is known (``0``: no body at all); ``None`` when the body is
    #: chunked or runs to the connection's end.
    length: int | None
    #: The body uses the chunked transfer coding.
    chunked: bool
    #: The connection may carry another request once the body was read to its end.
    keep_alive: bool


_TOKEN_CHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# Patterns on the head decoded as latin-1 (one char per byte).  A value character is anything but
# NUL and whitespace (h11's field-vchar); SP and HTAB only between value characters.
_VCHAR = r"[^\x00\t\n\x0b\x0c\r ]"
_FIELD = re.compile(
    rf"({_TOKEN_CHARS}+):[ \t]*((?:{_VCHAR}+(?:[ \t]+{_VCHAR}+)*)?)[ \t]*", re.ASCII
).fullmatch
_STATUS = re.compile(r"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([^\x00\n\x0b\x0c\r]*))?").fullmatch
_HEAD_END = re.compile(rb"\n\r?\n").search
_PREFIX = b"HTTP/"
_OWS = " \t"


class ResponseHeadParser:
    """Finds and parses the response head in bytes fed in arbitrary pieces.

    Attributes:
        received: bytes fed so far.
        trailing: once ``feed`` returned the head, the bytes fed after it (the body's start).

    Once ``feed`` returned a head, later calls add to ``trailing``; after an error every call
    raises it again.
    """

    __slots__ = (
        "_buf",
        "_consumed",
        "_error",
        "_head",
        "_interim",
        "_scan",
        "received",
        "trailing",
    )

    def __init__(self) -> None:
        self._buf = bytearray()  # bytes of the head(s) not parsed yet
        self._scan = 0  # where the search for the head's end resumes in ``_buf``
        self._consumed = 0  # bytes of interim heads already parsed
        self._interim = 0
        self._head: ResponseHead | None = None
        self._error: HeadError | None = None
        self.received = 0
        self.trailing = b""

    def feed(self, data: bytes) -> ResponseHead | None:
        """Add ``data`` (the next bytes received); the head once it is complete.

        Args:
            data: any number of bytes (``b""`` does nothing; EOF is said with ``end()``).

        Returns:
            The final head the first time it is complete, ``None`` before (and after: later bytes
            go to ``trailing``).

        Raises:
            HeadError: malformed, or over ``MAX_HEAD_SIZE`` / ``MAX_FIELDS`` /
                ``MAX_INTERIM_HEADS``.
        """
        if self._error is not None:
            raise self._error
        self.received += len(data)
        if self._head is not None:
            self.trailing += data
            return None
        if self._buf:
            self._buf += data  # a bytearray: a head dripping in is not copied at every feed
            buf: bytes | bytearray = self._buf
        else:
            buf = data
        try:
            while True:
                m = _HEAD_END(buf, self._scan)
                if m is None:
                    self._check_partial(buf)
                    if buf is not self._buf:
                        self._buf = bytearray(buf)
                    self._scan = max(0, len(buf) - 2)
                    return None
                end = m.end()
                if end > MAX_HEAD_SIZE:
                    raise HeadError(f"a response head over {MAX_HEAD_SIZE} bytes")
                head = _parse(buf[: m.start()], self._consumed + end)
                self._scan = 0
                if head.status >= 200 or head.status == 101:
                    self._head = head
                    self._buf = bytearray()
                    self.trailing = bytes(buf[end:])
                    return head
                self._interim += 1
                if self._interim > MAX_INTERIM_HEADS:
                    raise HeadError(f"over {MAX_INTERIM_HEADS} interim (1xx) responses")
                self._consumed += end
                buf = buf[end:]
        except HeadError as exc:
            self._error = exc
            raise

    def end(self) -> None:
        """Say that the input ended (EOF).

        Raises:
            IncompleteHead: no whole head arrived (``received`` says how many bytes did).
            HeadError: an error found earlier.
        """
        if self._error is not None:
            raise self._error
        if self._head is not None:
            return
        if self.received == 0:
            msg = "the connection closed before any byte of the response"
        else:
            msg = f"the connection closed inside the response head, after {self.received} bytes"
        self._error = IncompleteHead(msg, self.received)
        raise self._error

    def _check_partial(self, buf: bytes | bytearray) -> None:
        """No head end in ``buf`` yet: refuse it now if it can never become a valid head."""
        if len(buf) > MAX_HEAD_SIZE:
            raise HeadError(f"a response head over {MAX_HEAD_SIZE} bytes")
        line_end = buf.find(b"\n")
        if line_end >= 0:  # the status line is complete: check it before the fields arrive
            line = buf[:line_end]
            if line.endswith(b"\r"):
                line = line[:-1]
            _status_line(line.decode("latin-1"))
        elif buf != b"\r" and not buf.startswith(_PREFIX[: len(buf)]):
            raise HeadError("not an HTTP/1.x status line")


def _status_line(line: str) -> tuple[int, str, str]:
    """``(status, reason, http_version)`` of a status line (its line end removed).

    Raises:
        HeadError: not a valid HTTP/1.x status line.
    """
    m = _STATUS(line)
    if m is None:
        if not line:
            raise HeadError("an empty line instead of the status line")
        if not line.startswith("HTTP/"):
            raise HeadError("not an HTTP/1.x status line")
        raise HeadError("a malformed status line")
    major, minor, code, reason = m.groups()
    if major != "1":
        raise HeadError(f"unsupported protocol version HTTP/{major}.{minor}")
    status = int(code)
    if status < 100:
        raise HeadError(f"an invalid status code {status:03d}")
    return status, reason or "", "1.0" if minor == "0" else "1.1"


def _parse(block: bytes | bytearray, consumed: int) -> ResponseHead:
    """The head in ``block``: status line and field lines, without the empty line ending them.

    Raises:
        HeadError: a malformed status or field line, or over ``MAX_FIELDS``.
    """
    text = block.decode("latin-1")
    if text.count("\n") == text.count("\r\n"):  # CRLF line ends only (or a single line)
        lines = text.split("\r\n")
        if lines[-1].endswith("\r"):  # the head ended with CR LF LF
            lines[-1] = lines[-1][:-1]
    else:
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    status, reason, version = _status_line(lines[0])
    if len(lines) > MAX_FIELDS + 1:
        raise HeadError(f"over {MAX_FIELDS} header fields")
    headers: list[tuple[str, str]] = []
    append = headers.append
    for line in lines[1:]:
        m = _FIELD(line)
        if m is not None:
            append((m[1], m[2]))
            continue
        if line[:1] in (" ", "\t"):  # obs-fold: continues the previous field's value
            if not headers:
                raise HeadError("a continuation line (obs-fold) before the first header field")
            name, value = headers[-1]
            m = _FIELD(f"{name}:{value} {line.lstrip(_OWS)}")
            if m is not None:
                headers[-1] = (m[1], m[2])
                continue
            raise HeadError(f"an invalid value in the header field {name!r}")
        raise HeadError(_field_line_problem(line))
    return ResponseHead(status, reason, version, headers, consumed)


def _field_line_problem(line: str) -> str:
    """What is wrong with a field line that did not match (never quoting its value)."""
    name, colon, _ = line.partition(":")
    if not colon:
        return "a header line without a colon"
    if not name:
        return "a header line with an empty field name"
    if name != name.rstrip(" \t"):
        stripped = name.rstrip(" \t")
        if re.fullmatch(f"{_TOKEN_CHARS}+", stripped):
            return f"whitespace between the header field name {stripped!r} and its colon"
    if not re.fullmatch(f"{_TOKEN_CHARS}+", name):
        return "an invalid header field name"
    if "\r" in line:
        return f"a CR inside the header field {name!r}"
    if "\x00" in line:
        return f"a NUL in the header field {name!r}"
    return f"an invalid value in the header field {name!r}"


def keep_alive(head: ResponseHead) -> bool:
    """Whether the connection may carry another request after this response, as far as the head
    says: not after ``Connection: close``, nor after HTTP/1.0 unless ``Connection: keep-alive``,
    nor after ``101``.  (The body's framing may still forbid it: see ``body_framing``.)
    """
    values = [value for name, value in head.headers if name.lower() == "connection"]
    return _keep_alive(values, head)


def _keep_alive(connection: list[str], head: ResponseHead) -> bool:
    """``keep_alive`` given the values of the Connection fields."""
    if head.status == 101:
        return False
    tokens = {t.strip().lower() for value in connection for t in value.split(",")}
    if "close" in tokens:
        return False
    if head.http_version == "1.0":
        return "keep-alive" in tokens
    return True


def body_framing(head: ResponseHead, method: str) -> Framing:
    """How the body of ``head``, the answer to a ``method`` request, is delimited.

    RFC 9112 section 6.3: no body after ``HEAD`` or with ``1xx`` / ``204`` / ``304``; else
    ``Transfer-Encoding: chunked``; else ``Content-Length``; else the body runs to the
    connection's end.  Content-Length is checked whatever the status: digits only, at most
    ``MAX_CONTENT_LENGTH_DIGITS``; repeated (as several fields or a list) only with one value
    (RFC 9112 section 6.3 item 5, as h11 does).  With both Transfer-Encoding and
    Content-Length, chunked wins and the connection is not reused (item 3).

    Raises:
        HeadError: an invalid Content-Length, or a transfer coding other than ``chunked``
            alone (``gzip, chunked`` too: this client removes no transfer coding but chunked).
    """
    lengths: list[str] = []
    codings: list[str] = []
    conn: list[str] = []
    for name, value in head.headers:
        # connection, content-length, transfer-encoding: most names have none of these lengths
        if len(name) in (10, 14, 17):
            lower = name.lower()
            if lower == "content-length":
                lengths.append(value)
            elif lower == "transfer-encoding":
                codings.append(value)
            elif lower == "connection":
                conn.append(value)
    length = _content_length(lengths) if lengths else None
    reuse = _keep_alive(conn, head)
    status = head.status
    if method == "HEAD" or status < 200 or status == 204 or status == 304:
        return Framing(0, False, reuse)
    if codings:
        items = [c.strip().lower() for v in codings for c in v.split(",")]
        if items != ["chunked"]:
            raise HeadError(
                f"unsupported Transfer-Encoding ({len(items)} coding(s); only chunked is)"
            )
        return Framing(None, True, reuse and length is None and head.http_version == "1.1")
    if length is not None:
        return Framing(length, False, reuse)
    return Framing(None, False, False)


def _content_length(values: list[str]) -> int:
    items = {v.strip() for value in values for v in value.split(",")}
    if len(items) == 1:
        (item,) = items
        if item.isdigit() and item.isascii() and len(item) <= MAX_CONTENT_LENGTH_DIGITS:
            return int(item)
    raise HeadError(f"an invalid Content-Length ({len(values)} field(s), not one number)")
