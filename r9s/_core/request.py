"""Plain values that cross the sans-IO boundary: ``Request`` out, ``RawResponse`` back.

A transport receives a ``Request`` and a ``Timeout``; nothing else about the API reaches it.
They are immutable named tuples (like h11's frozen events, without importing ``dataclasses``
at ``import r9s`` time), cheap to build, and safe to print: the ``Authorization`` header is
redacted in every repr.
"""

from __future__ import annotations

from typing import NamedTuple

from r9s._core.headers import Headers

__all__ = ["DEFAULT_TIMEOUT", "RawResponse", "Request", "Timeout"]


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


class Request(NamedTuple):
    """One HTTP request, fully built: what a transport needs and nothing more.

    Attributes:
        method: ``"POST"`` for every operation r9s has today.
        url: absolute ``http://`` or ``https://`` URL.
        headers: every header to send except ``Host``, ``Content-Length`` and
            ``Transfer-Encoding``, which belong to the transport.
        body: the encoded body (JSON for every operation today).
        stream: whether the answer is an event stream (``Accept: text/event-stream``).
    """

    method: str
    url: str
    headers: Headers
    body: bytes = b""
    stream: bool = False

    def __repr__(self) -> str:  # headers' own repr redacts credentials
        return (
            f"Request({self.method} {self.url}, headers={self.headers!r}, {len(self.body)} bytes)"
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
