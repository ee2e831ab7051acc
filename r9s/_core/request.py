"""Plain values that cross the sans-IO boundary: ``Request`` out, ``RawResponse`` back.

A transport receives a ``Request`` and a ``Timeout``; nothing else about the API reaches it.
They are immutable named tuples (like h11's frozen events, without importing ``dataclasses``
at ``import r9s`` time), cheap to build, and safe to print: the ``Authorization`` header is
redacted in every repr.

A request body is either ``bytes`` (every JSON body: the hot path, sent with its head in one
write) or a ``StreamedBody``: an object that hands its bytes over piece by piece, knows its
length in advance or not (then it goes out with ``Transfer-Encoding: chunked``), and says
whether it can be produced again from its start (``rewindable``).  A multipart upload of a
200 MB file (``r9s._core.multipart.MultipartBody``) is one; ``IterableBody`` wraps any
iterable of byte pieces.  ``checked_pieces`` is the one place that frames a streamed body for
the wire: it counts the bytes against the declared length (never a byte more), applies the
chunked coding, and turns any failure of the body's source into ``BodyReadError``.  Both
shipped transports send through it; so can any other HTTP stack.

The rule for sending a streamed body twice (``can_resend``): bytes always; a streamed body only
when it is ``rewindable``, because the first attempt may have consumed it.  Transports apply it
to their own stale-connection retry (and send a body that cannot be rewound on a fresh
connection only); drivers apply it before a retry.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import Final, NamedTuple, Protocol, TypeGuard, Union, runtime_checkable

from r9s._core.headers import Headers

__all__ = [
    "DEFAULT_TIMEOUT",
    "Body",
    "BodyReadError",
    "IterableBody",
    "RawResponse",
    "Request",
    "StreamedBody",
    "Timeout",
    "body_bytes",
    "can_resend",
    "checked_pieces",
    "is_streamed",
]


#: Largest event (sum of its data lines) or unterminated line a stream accepts by default:
#: 8 MiB.  A chat chunk is a few hundred bytes; a Responses ``response.completed`` event repeats
#: the whole answer, which for long outputs with tool results can reach megabytes.  websockets
#: caps a message at 1 MiB by default; we allow more because one event may carry a whole
#: response.  (Defined here, not in ``sse.py``, so building a client does not import the SSE
#: decoder; ``r9s._core.sse`` re-exports it.)
DEFAULT_MAX_EVENT_SIZE = 8 * 1024 * 1024

#: What r9s asks for in ``Accept-Encoding``: the codings the standard library can decode.
ACCEPT_ENCODING = "gzip, deflate"


class Timeout(NamedTuple):
    """Seconds each phase may take; ``None`` waits forever (never the default).

    ``read`` bounds each wait for bytes (the gap between two reads), not the whole body.
    ``pool`` bounds the wait for a free pooled connection (async transport).
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    write: float | None = 600.0
    pool: float | None = 600.0

    @classmethod
    def from_ms(cls, timeout_ms: int | float | None) -> Timeout:
        """The timeout for a ``timeout_ms`` setting: every phase gets that many milliseconds.

        ``None`` means the default (``DEFAULT_TIMEOUT``), never "no timeout".
        """
        if timeout_ms is None:
            return DEFAULT_TIMEOUT
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)):
            raise TypeError(f"timeout_ms must be a number of milliseconds, not {timeout_ms!r}")
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, got {timeout_ms}")
        s = timeout_ms / 1000.0
        return cls(connect=s, read=s, write=s, pool=s)


#: 10 s to connect, then up to 600 s between bytes: a non-streamed completion from a reasoning
#: model may think for minutes before its first byte (openai-python uses the same 600 s).
DEFAULT_TIMEOUT = Timeout()


# -- streamed request bodies ---------------------------------------------------------------------


@runtime_checkable
class StreamedBody(Protocol):
    """A request body produced piece by piece instead of held as one ``bytes`` value.

    ``r9s._core.multipart.MultipartBody`` and ``IterableBody`` are the ones r9s makes; any
    object with these three members will do.
    """

    @property
    def length(self) -> int | None:
        """The exact number of bytes ``pieces()`` yields, or ``None`` when not known in advance
        (the body then goes out with ``Transfer-Encoding: chunked``)."""
        ...

    @property
    def rewindable(self) -> bool:
        """Whether ``pieces()`` may be called again and yields the same bytes from the start."""
        ...

    def pieces(self) -> Iterator[bytes]:
        """A new iterator over the body's bytes, from its start, in pieces of any size.

        Each step should do a bounded amount of work (r9s's bodies read at most 256 KiB of a
        file per piece): the async transport runs it on the event loop.  Once the iterator
        is exhausted it has yielded exactly ``length`` bytes.  A body that is not
        ``rewindable`` may refuse a second call (``BodyReadError``).
        """
        ...


#: What ``Request.body`` holds: one ``bytes`` value, or a streamed body.
Body = Union[bytes, StreamedBody]


class BodyReadError(Exception):
    """Producing a streamed request body failed: its source raised (a file vanished or could not
    be read), changed size since the body was built, yielded more or fewer bytes than declared,
    or could not be produced a second time.

    The request was not sent whole; a transport that was sending it closed the connection.  Not
    an ``R9SError``: nothing went wrong on the network, and retrying would not help.  The cause
    is chained (``__cause__``).
    """


class IterableBody:
    """A streamed body over an iterable of byte pieces (a generator, a list): sent once.

    Args:
        pieces: the body's bytes, in pieces of any size (empty pieces are skipped).
        length: the exact total, if known (sent as ``Content-Length``; a source that yields
            more or fewer bytes then fails with ``BodyReadError``); ``None`` sends the body
            with the chunked coding.

    Not rewindable, even over a list: a second ``pieces()`` raises ``BodyReadError``.
    """

    __slots__ = ("_length", "_source", "_used")

    def __init__(self, pieces: Iterable[bytes], length: int | None = None) -> None:
        if length is not None and (isinstance(length, bool) or length < 0):
            raise ValueError(f"length must be a number of bytes >= 0 or None, not {length!r}")
        self._source = pieces
        self._length = length
        self._used = False

    @property
    def length(self) -> int | None:
        return self._length

    @property
    def rewindable(self) -> bool:
        return False

    def pieces(self) -> Iterator[bytes]:
        if self._used:
            raise BodyReadError("this request body was already sent once and cannot be rewound")
        self._used = True
        return iter(self._source)

    def __repr__(self) -> str:
        size = "length unknown" if self._length is None else f"{self._length} bytes"
        return f"<IterableBody {size}>"


def is_streamed(body: Body) -> TypeGuard[StreamedBody]:
    """Whether ``body`` is a streamed body rather than a bytes-like value."""
    return type(body) is not bytes and not isinstance(body, (bytes, bytearray, memoryview))


def can_resend(body: Body) -> bool:
    """Whether ``body`` may be sent again after an attempt that may have consumed it."""
    if is_streamed(body):
        return bool(body.rewindable)
    return True


#: The last chunk and the empty trailer section of a chunked body (RFC 9112 section 7.1).
LAST_CHUNK: Final = b"0\r\n\r\n"


def checked_pieces(body: StreamedBody, *, chunked: bool = False) -> Generator[bytes, None, None]:
    """The bytes to write for ``body``: its pieces, counted, and framed when ``chunked``.

    Never yields a byte past ``body.length``: a source that runs over fails before the excess
    goes out (the peer would read it as the start of the next request).  Empty pieces are
    skipped.  Closing this iterator closes the body's own iterator (a file it opened).

    Args:
        body: the body to send.
        chunked: apply the chunked transfer coding (a chunk per piece, then the last chunk);
            for a body whose ``length`` is ``None``.

    Raises:
        BodyReadError: the body's iterator raised (chained), or the body ran over or fell short
            of its declared length.
    """
    declared = body.length
    sent = 0
    try:
        source = body.pieces()
    except BodyReadError:
        raise
    except Exception as exc:
        raise BodyReadError(f"the request body could not be read: {exc}") from exc
    try:
        while True:
            try:
                piece = next(source)
            except StopIteration:
                break
            except BodyReadError:
                raise
            except Exception as exc:
                raise BodyReadError(
                    f"reading the request body failed after {sent} bytes: {exc}"
                ) from exc
            if not piece:
                continue
            if not isinstance(piece, bytes):
                if not isinstance(piece, (bytearray, memoryview)):
                    raise BodyReadError(
                        f"a request body piece must be bytes, not {type(piece).__name__}"
                    )
                piece = bytes(piece)
            size = len(piece)
            if declared is not None and sent + size > declared:
                raise BodyReadError(
                    f"the request body yielded more than its declared {declared} bytes"
                )
            sent += size
            yield b"%x\r\n%b\r\n" % (size, piece) if chunked else piece
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if declared is not None and sent != declared:
        raise BodyReadError(f"the request body ended after {sent} of its declared {declared} bytes")
    if chunked:
        yield LAST_CHUNK


def body_bytes(body: Body) -> bytes:
    """The whole of ``body`` as one value (a streamed body read to its end, checked).

    Raises:
        BodyReadError: as ``checked_pieces``.
    """
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return b"".join(checked_pieces(body))


def _body_size(body: Body) -> str:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return f"{len(body)} bytes"
    length = body.length
    return "a streamed body" + ("" if length is None else f" of {length} bytes")


class Request(NamedTuple):
    """One HTTP request, fully built: what a transport needs and nothing more.

    Attributes:
        method: ``"POST"`` for every operation r9s has today.
        url: absolute ``http://`` or ``https://`` URL.
        headers: every header to send except ``Host``, ``Content-Length`` and
            ``Transfer-Encoding``, which belong to the transport.
        body: the encoded body: ``bytes`` (JSON), or a ``StreamedBody`` (a multipart upload).
        stream: whether the answer is an event stream (``Accept: text/event-stream``).
    """

    method: str
    url: str
    headers: Headers
    body: Body = b""
    stream: bool = False

    def __repr__(self) -> str:  # headers' own repr redacts credentials
        return (
            f"Request({self.method} {self.url}, headers={self.headers!r}, {_body_size(self.body)})"
        )


class RawResponse(NamedTuple):
    """What came back: status, headers, and the (decoded) body bytes read so far.

    Kept on errors as ``raw_response``.  For a streamed answer ``body`` is what the error was
    built from (an error page), not the whole stream.
    """

    status_code: int
    headers: Headers
    body: bytes = b""
    request: Request | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content(self) -> bytes:
        return self.body

    def __repr__(self) -> str:
        return f"RawResponse({self.status_code}, {len(self.body)} bytes)"
