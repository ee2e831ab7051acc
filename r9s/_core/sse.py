"""Incremental server-sent-events decoder: bytes in, events out, no I/O.

Follows the WHATWG HTML "Server-sent events" parsing rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in CRLF, LF or a lone CR (a CRLF split across two reads is one line end); a leading
UTF-8 BOM is dropped; lines starting with ``:`` are comments; ``field:value`` drops one space
after the colon; a line without a colon is a field with an empty value; ``data`` lines join
with LF; ``event``, ``id`` (ignored if it holds NUL) and ``retry`` (ASCII digits only) are kept;
a blank line dispatches the event unless no ``data`` line was seen.

One deliberate difference: at end of input the spec discards an event that was not followed
by a blank line.  An API client must never lose data silently, so ``end()`` dispatches it
(the caller then decodes it, and a half-written JSON payload fails loudly).

Speed: no per-byte Python loop.  Each ``feed`` joins the unfinished tail of the previous read
with the new bytes once, splits the whole buffer with ``bytes.splitlines`` (which splits on CR,
LF and CRLF only) and walks the lines.  Memory is bounded: one event, or one unterminated line,
may not grow past ``max_event_size`` bytes (``EventTooLargeError``).

No event is lost to an error: when a read turns bad part-way (an oversized event, invalid
UTF-8 in strict mode), ``feed`` returns the events completed before that point and the error is
raised by the next ``feed`` or ``end`` call; ``error`` shows it at once.
"""

from __future__ import annotations

from r9s._core.request import DEFAULT_MAX_EVENT_SIZE
from r9s.errors import EventTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent:
    """One dispatched event.

    Attributes:
        event: the event type; ``"message"`` when no ``event:`` field was given.
        data: the data lines joined with ``"\\n"``.
        id: the last event id seen so far in the stream (it persists across events), or ``None``.
        retry: the reconnection time in ms if this event carried a valid ``retry:`` field.
    """

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self, data: str, event: str = "message", id: str | None = None, retry: int | None = None
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id, self.retry) == (
            other.data,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (("event", self.event), ("id", self.id), ("retry", self.retry))
            if v is not None and not (k == "event" and v == "message")
        )
        return f"ServerSentEvent(data={self.data!r}{extra})"


class SSEDecoder:
    """Feed it the body of a ``text/event-stream`` response in any pieces; get events back.

    Args:
        max_event_size: bytes one event's data (or one unterminated line) may reach.
        errors: how invalid UTF-8 is decoded: ``"replace"`` as the spec says, or ``"strict"``
            to raise ``UnicodeDecodeError`` (r9s's own streams use strict and report it).
    """

    __slots__ = (
        "_data",
        "_data_size",
        "_errors",
        "_event",
        "_last_id",
        "_max",
        "_retry",
        "_skip_lf",
        "_started",
        "_tail",
        "error",
    )

    def __init__(
        self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, *, errors: str = "replace"
    ) -> None:
        self._max = max_event_size
        self._errors = errors
        self._tail = b""  # an unterminated line carried to the next feed
        self._skip_lf = False  # the last feed ended in CR: a leading LF is part of that CRLF
        self._started = False  # BOM checked
        self._data: list[bytes] = []
        self._data_size = 0
        self._event: bytes | None = None
        self._last_id: str | None = None
        self._retry: int | None = None
        #: The failure the next ``feed``/``end`` raises (see the module docstring).
        self.error: Exception | None = None

    @property
    def last_event_id(self) -> str | None:
        return self._last_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode ``chunk``, returning every event it completes (often none or one).

        Raises:
            EventTooLargeError: an event or an unterminated line exceeded ``max_event_size``.
            UnicodeDecodeError: (``errors="strict"``) an event that is not valid UTF-8.
        """
        return [
            ServerSentEvent(item) if isinstance(item, str) else item
            for item in self.feed_raw(chunk)
        ]

    def feed_raw(self, chunk: bytes) -> list[ServerSentEvent | str]:
        """``feed``, but a plain event (type ``message``, no id, no retry) comes as its data.

        The hot path of r9s's own streams: most LLM events are one ``data:`` line, and this
        hands them over without building an event object.
        """
        if self.error is not None:
            raise self.error
        if self._skip_lf:
            if not chunk:
                return []
            self._skip_lf = False
            if chunk[0] == 10:  # b"\n" completing a CRLF split across reads
                chunk = chunk[1:]
        buf = self._tail + chunk if self._tail else chunk
        if not self._started:
            if len(buf) < 3 and _BOM.startswith(buf):
                self._tail = buf
                return []
            self._started = True
            if buf.startswith(_BOM):
                buf = buf[3:]
        self._tail = b""
        if not buf:
            return []
        if b"\r" in buf or self._data or self._event is not None:
            events = self._feed_lines(buf)
        else:
            events = self._feed_frames(buf)
        if self.error is not None and not events:
            raise self.error
        return events

    def _feed_frames(self, buf: bytes) -> list[ServerSentEvent | str]:
        """Fast path, for input with LF line ends and no event in progress: split on blank
        lines; a frame that is one ``data: `` line, or an ``event: `` line and one ``data: ``
        line (the Responses and Messages APIs' frames), is decoded directly."""
        frames = buf.split(b"\n\n")
        tail = frames.pop()
        out: list[ServerSentEvent | str] = []
        limit = self._max + 6
        errors = self._errors
        try:
            for frame in frames:
                if frame[:6] == b"data: " and self._last_id is None and b"\n" not in frame:
                    if len(frame) > limit:
                        raise EventTooLargeError(
                            f"an event's data grew past {self._max} bytes ({len(frame) - 6} bytes)"
                        )
                    out.append(frame[6:].decode("utf-8", errors))
                elif (
                    frame[:7] == b"event: "
                    and (nl := frame.find(b"\n")) != -1
                    and frame[nl + 1 : nl + 7] == b"data: "
                    and frame.find(b"\n", nl + 1) == -1
                ):
                    size = len(frame) - nl - 7
                    if size > self._max:
                        raise EventTooLargeError(
                            f"an event's data grew past {self._max} bytes ({size} bytes)"
                        )
                    name = frame[7:nl]
                    out.append(
                        ServerSentEvent(
                            frame[nl + 7 :].decode("utf-8", errors),
                            name.decode("utf-8", errors) if name else "message",
                            self._last_id,
                            self._retry,
                        )
                    )
                    self._retry = None
                else:
                    lines = frame.split(b"\n")
                    lines.append(b"")
                    self._walk(lines, out)
        except (EventTooLargeError, UnicodeDecodeError) as exc:
            self.error = exc
            return out
        if len(tail) > self._max:
            self.error = EventTooLargeError(
                f"an event-stream line grew past {self._max} bytes without ending"
            )
        else:
            self._tail = tail
        return out

    def _feed_lines(self, buf: bytes) -> list[ServerSentEvent | str]:
        """The general path: any line ends, events spanning reads."""
        lines = buf.splitlines()
        last = buf[-1]
        tail = b""
        if last == 13:  # CR: complete, but an LF may follow in the next read
            self._skip_lf = True
        elif last != 10:
            tail = lines.pop()
        events = self._lines(lines) if lines else []
        if len(tail) > self._max and self.error is None:
            self.error = EventTooLargeError(
                f"an event-stream line grew past {self._max} bytes without ending"
            )
        elif self.error is None:
            self._tail = tail
        return events

    def end(self) -> list[ServerSentEvent]:
        """Signal the end of input; returns the event left pending, if any (see module doc)."""
        if self.error is not None:
            raise self.error
        lines = self._tail.splitlines() if self._tail else []
        self._tail = b""
        lines.append(b"")
        events: list[ServerSentEvent] = [
            ServerSentEvent(e) if isinstance(e, str) else e for e in self._lines(lines)
        ]
        if self.error is not None and not events:
            raise self.error
        return events

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent | str]:
        events: list[ServerSentEvent | str] = []
        try:
            self._walk(lines, events)
        except (EventTooLargeError, UnicodeDecodeError) as exc:
            self.error = exc
        return events

    def _walk(self, lines: list[bytes], events: list[ServerSentEvent | str]) -> None:
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(self._dispatch())
                    data = self._data
                else:
                    self._event = None
                continue
            if line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                size = self._data_size + len(value) + 1
                if size > self._max:
                    raise EventTooLargeError(
                        f"an event's data grew past {self._max} bytes ({size} bytes before its end)"
                    )
                self._data_size = size
                data.append(value)
                continue
            if line[0] == 58:  # b":" comment
                continue
            colon = line.find(b":")
            if colon == -1:
                name, value = line, b""
            else:
                name = line[:colon]
                value = (
                    line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
                )
            if name == b"data":  # "data" without a colon (or "data:" after a bare CR/LF path)
                size = self._data_size + len(value) + 1
                if size > self._max:
                    raise EventTooLargeError(
                        f"an event's data grew past {self._max} bytes ({size} bytes before its end)"
                    )
                self._data_size = size
                data.append(value)
            elif name == b"event":
                self._event = value
            elif name == b"id":
                if b"\x00" not in value:
                    self._last_id = value.decode("utf-8", self._errors)
            elif name == b"retry":
                # ASCII digits only, as the spec says; more than 15 (a reconnection time of
                # 30,000 years) is ignored rather than handed to int() (4,300-digit limit).
                if value.isdigit() and value.isascii() and len(value) <= 15:
                    self._retry = int(value)
            # any other field name is ignored, as the spec says

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        raw = data[0] if len(data) == 1 else b"\n".join(data)
        event = self._event
        ev = ServerSentEvent(
            raw.decode("utf-8", self._errors),
            event.decode("utf-8", self._errors) if event else "message",
            self._last_id,
            self._retry,
        )
        self._data = []
        self._data_size = 0
        self._event = None
        self._retry = None
        return ev
