"""Fault directives: the ways the test server misbehaves on purpose.

Why: the SDK's retry, timeout and stream-recovery paths can only be tested against a server
that fails in a controlled, repeatable way.  A ``Fault`` names such misbehaviours; it can be
queued on a ``FakeServer`` from Python or sent per request in the ``X-R9S-Fault`` header, so
the same vocabulary works from a test, a benchmark or ``curl``.

Header syntax: comma-separated ``name=value`` directives named like the ``Fault`` fields
(``-`` may stand for ``_``, names are case-insensitive); a boolean directive without a value
means true.  ``retry_after`` may hold an HTTP date, whose comma is kept: a piece without ``=``
that names no directive continues the preceding ``retry_after`` value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

__all__ = ["BodyKind", "Fault"]

BodyKind = Literal["json", "html", "text", "empty"]

_BODY_KINDS: Final = ("json", "html", "text", "empty")
_INT_FIELDS: Final = frozenset(
    {
        "status",
        "retry_after_ms",
        "stream_error_after",
        "cut_after",
        "stall_after",
        "big_event",
        "delay_ms",
    }
)
_FLOAT_FIELDS: Final = frozenset({"stall_seconds", "hold_after_done"})
_BOOL_FIELDS: Final = frozenset(
    {"invalid_json", "short_body", "no_done", "reset", "close", "gzip", "crlf"}
)
_TRUE: Final = frozenset({"", "1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
#: Largest padded event (``big_event``): big enough for any event-size test, small enough
#: that a typo cannot make the server allocate gigabytes.
MAX_BIG_EVENT: Final = 64 * 1024 * 1024
#: Most directives accepted in one header value; keeps parsing bounded.
_MAX_DIRECTIVES: Final = 64


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour (or a combination) applied to one request.

    Every field is optional; ``Fault()`` changes nothing.  Counts ("after N content chunks")
    refer to the content-carrying stream events (one per token piece; 0 fires before the
    first event of all, the role chunk included); a count larger than
    the stream has fires after the last content chunk.  What a content chunk is, per answer:

    - chat, completions, responses: a token piece;
    - the Messages API (``/v1/messages``): a ``content_block_delta`` event of any kind (text,
      thinking, signature, tool input JSON);
    - image streams: a partial image (and each completed image but the last);
    - a binary body (speech): a block of 64 KiB; ``cut_after`` and ``stall_after`` then break
      it after N blocks but at most half the body, so a short body is cut too.

    On the Messages API the stream's terminator is ``message_stop`` rather than
    ``data: [DONE]``: ``no_done`` leaves it out, ``hold_after_done`` holds the connection
    open after it (the terminating chunk comes late), and ``stream_error_after`` sends
    ``event: error`` with ``{"type": "error", "error": {"type": "overloaded_error", ...}}``;
    a ``status`` fault's JSON body there is Anthropic-shaped (``status=529``:
    ``overloaded_error``).
    """

    #: Answer with this status (200..599) and an error body instead of the real answer.
    status: int | None = None
    #: Error body for ``status``: JSON error, nginx-like HTML page, plain text or nothing.
    body: BodyKind = "json"
    #: Sent verbatim as ``Retry-After`` (seconds or an HTTP date).
    retry_after: str | float | None = None
    #: Sent as ``retry-after-ms``.
    retry_after_ms: int | None = None
    #: In a stream, after N content chunks send an error event and end the stream cleanly.
    stream_error_after: int | None = None
    #: After N content chunks close the connection without finishing the response.
    cut_after: int | None = None
    #: After N content chunks (0 = before the status line) go silent, then close.
    stall_after: int | None = None
    #: How long a stall lasts (woken early by ``FakeServer.close()``).
    stall_seconds: float = 10.0
    #: 200 with a body that is not JSON, or a ``data: {bad json`` event in a stream.
    invalid_json: bool = False
    #: Non-stream: declare 20 bytes more Content-Length than sent, then close.
    short_body: bool = False
    #: End the stream cleanly but without ``data: [DONE]`` (Messages API: ``message_stop``).
    no_done: bool = False
    #: Keep the connection open this many seconds after the last event (``[DONE]``,
    #: ``message_stop``), then finish.
    hold_after_done: float | None = None
    #: One extra stream event whose data JSON is padded to this many bytes.
    big_event: int | None = None
    #: Read the request, then reset the connection (RST) without answering.
    reset: bool = False
    #: Send ``Connection: close`` and close after the response.
    close: bool = False
    #: Milliseconds between stream events (each flushed); before a non-stream answer.
    delay_ms: int | None = None
    #: Gzip the answer when the client accepts it (streams incrementally).
    gzip: bool = False
    #: Use CRLF line endings in the event stream.
    crlf: bool = False

    def __post_init__(self) -> None:
        if self.status is not None:
            _check_int("status", self.status, 200, 599)
        if self.body not in _BODY_KINDS:
            raise ValueError(f"Fault.body must be one of {', '.join(_BODY_KINDS)}: {self.body!r}")
        if self.retry_after is not None:
            if isinstance(self.retry_after, bool) or not isinstance(
                self.retry_after, str | int | float
            ):
                raise ValueError("Fault.retry_after must be a string or a number")
            if any(c in str(self.retry_after) for c in "\r\n\x00"):
                raise ValueError("Fault.retry_after must not contain line breaks")
        for name in ("retry_after_ms", "stream_error_after", "cut_after", "stall_after"):
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value, 0, None)
        if self.delay_ms is not None:
            _check_int("delay_ms", self.delay_ms, 0, 3_600_000)
        if self.big_event is not None:
            _check_int("big_event", self.big_event, 0, MAX_BIG_EVENT)
        _check_float("stall_seconds", self.stall_seconds)
        if self.hold_after_done is not None:
            _check_float("hold_after_done", self.hold_after_done)

    @property
    def retry_after_header(self) -> str | None:
        """The ``Retry-After`` header value, or None.

        Returns:
            The value as sent: strings verbatim, whole numbers without a fraction.
        """
        value = self.retry_after
        if value is None or isinstance(value, str):
            return value
        return f"{value:g}" if isinstance(value, float) else str(value)

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Parse an ``X-R9S-Fault`` header value.

        Args:
            text: comma-separated ``name=value`` directives, e.g. ``"status=503,retry_after=1"``.

        Returns:
            The Fault.  Raises ValueError for an unknown directive or a bad value.
        """
        known = {f.name for f in fields(cls)}
        values: dict[str, str] = {}
        last: str | None = None
        pieces = text.split(",")
        if len(pieces) > _MAX_DIRECTIVES:
            raise ValueError(f"too many fault directives (at most {_MAX_DIRECTIVES})")
        for piece in pieces:
            name, sep, value = piece.partition("=")
            key = name.strip().lower().replace("-", "_")
            if not key and not sep:
                continue
            if not sep and key not in known and last == "retry_after":
                # The comma inside an HTTP date such as "Wed, 21 Oct 2015 07:28:00 GMT".
                values["retry_after"] += "," + piece
                continue
            if key not in known:
                raise ValueError(f"unknown fault directive {name.strip()!r}")
            values[key] = value.strip() if sep else ""
            last = key if sep else None
        kwargs: dict[str, Any] = {key: _convert(key, raw) for key, raw in values.items()}
        return cls(**kwargs)

    def to_header(self) -> str:
        """Render this fault as an ``X-R9S-Fault`` header value.

        Returns:
            A string that ``Fault.parse`` turns back into an equivalent Fault (a numeric
            ``retry_after`` comes back as its string).
        """
        parts: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name in _BOOL_FIELDS:
                parts.append(f.name)
            elif f.name == "retry_after":
                parts.append(f"retry_after={self.retry_after_header}")
            elif f.name in _FLOAT_FIELDS:
                parts.append(f"{f.name}={value!r}")
            else:
                parts.append(f"{f.name}={value}")
        return ",".join(parts)


def _convert(key: str, raw: str) -> object:
    converter: Callable[[str], object]
    if key in _BOOL_FIELDS:
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"fault directive {key} wants a boolean, got {raw!r}")
    if not raw:
        raise ValueError(f"fault directive {key} needs a value")
    if key in _INT_FIELDS:
        converter = int
    elif key in _FLOAT_FIELDS:
        converter = float
    else:
        return raw
    try:
        return converter(raw)
    except ValueError:
        raise ValueError(f"fault directive {key} wants a number, got {raw!r}") from None


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Fault.{name} must be an int: {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"Fault.{name} must be {limit}: {value}")


def _check_float(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Fault.{name} must be a number: {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Fault.{name} must be a finite number >= 0: {value}")
