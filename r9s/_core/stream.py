"""Body bytes of a streamed answer in; typed events out.  No I/O.

Pipeline per ``feed``: content decoding (gzip) -> ``SSEDecoder`` -> one ``json.loads`` per
event -> the operation's lazy event object.  Rules:

- ``data: [DONE]`` ends the stream at once (``done`` becomes true); anything after it is
  ignored, even if the server keeps the connection open;
- an ``event: error``, a Responses ``{"type": "error"}`` event, or a payload holding a non-null
  ``"error"`` ends the stream with the matching error (``r9s._core.classify.stream_error``);
- an event that is not a JSON object, or not valid UTF-8, is a ``ResponseValidationError``;
- events with empty data (keep-alives) are skipped.

A failure never costs the events before it: ``feed`` returns them, and sets ``error``, which
the event stream raises once those events were handed out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from r9s._core._json import loads
from r9s._core.classify import QUOTE_LIMIT, redact, stream_error
from r9s._core.decoding import ContentDecoder
from r9s._core.headers import Headers
from r9s._core.operations import Call
from r9s._core.request import RawResponse
from r9s._core.sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder
from r9s.errors import R9SError, ResponseValidationError
from r9s.models._base import Model

_new = object.__new__

__all__ = ["DRAIN_MAX_BYTES", "DRAIN_SECONDS", "StreamDecoder", "decoder_for"]


class StreamDecoder:
    """Decode one streamed answer (status 2XX already checked).

    Attributes:
        done: ``[DONE]`` was seen; stop reading.
        error: the error that ended the stream, to raise after the returned events.
        events_received: events returned so far.
    """

    __slots__ = (
        "_content",
        "_headers",
        "_make",
        "_secrets",
        "_sse",
        "_status",
        "done",
        "error",
        "events_received",
    )

    def __init__(
        self,
        make: type[Model],
        status: int,
        headers: Headers,
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        secrets: Sequence[str] = (),
    ) -> None:
        """
        Args:
            make: the class of one decoded event, e.g. ``ChatCompletionChunk``; the parsed
                dict becomes the object (no copy, no ``__init__`` call).
            status, headers: the answer's, for error messages (and ``Content-Encoding``).
            max_event_size: largest event accepted, in bytes.
            secrets: strings (the API key) never to quote in an error.
        """
        self._status = status
        self._headers = headers
        self._secrets = tuple(secrets)
        self._make = make
        self._content = ContentDecoder(headers.get("content-encoding"), max_output=None)
        self._sse = SSEDecoder(max_event_size, errors="strict")
        self.done = False
        self.error: R9SError | None = None
        self.events_received = 0

    @property
    def event_class(self) -> type[Model]:
        """The class of the events this decoder yields."""
        return self._make

    def feed(self, data: bytes) -> list[Any]:
        """Decode the next piece of the body; returns the events it completed."""
        if self.done or self.error is not None:
            return []
        try:
            if not self._content.identity:
                data = self._content.feed(data)
            events = self._sse.feed_raw(data)
        except (R9SError, UnicodeDecodeError) as exc:
            self._fail(exc)
            return []
        out = self._decode(events) if events else []
        if self.error is None and self._sse.error is not None:
            self._fail(self._sse.error)
        return out

    def end(self) -> list[Any]:
        """The body ended cleanly: decode what is left (an event without its blank line)."""
        if self.done or self.error is not None:
            return []
        try:
            events: list[ServerSentEvent | str] = []
            if not self._content.identity:
                events += self._sse.feed_raw(self._content.end())
            events += self._sse.end()
        except (R9SError, UnicodeDecodeError) as exc:
            self._fail(exc)
            return []
        return self._decode(events)

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, UnicodeDecodeError):
            exc = self._invalid(f"is not valid UTF-8 ({exc.reason})", exc)
        if not isinstance(exc, R9SError):
            raise exc
        if exc.status_code is None:
            exc.status_code = self._status
            exc.headers = self._headers
        exc.events_received = self.events_received
        self.error = exc

    def _invalid(self, what: str, cause: BaseException | None, data: str = "") -> R9SError:
        n = self.events_received + 1
        body = redact(data, self._secrets)
        err = ResponseValidationError(
            f"event {n} of the stream {what}" + (f"; data: {body[:QUOTE_LIMIT]!r}" if data else ""),
            status_code=self._status,
            body=body,
            headers=self._headers,
            raw_response=RawResponse(self._status, self._headers, body.encode()),
        )
        err.__cause__ = cause
        err.events_received = self.events_received
        return err

    def _decode(self, events: list[ServerSentEvent | str]) -> list[Any]:
        out: list[Any] = []
        make = self._make
        for ev in events:
            if isinstance(ev, str):
                data = ev
                kind = "message"
            else:
                data = ev.data
                kind = ev.event
            if data == "[DONE]":
                self.done = True
                break
            if kind == "error":
                try:
                    payload: Any = loads(data)
                except ValueError:
                    payload = data
                self.events_received += len(out)
                self.error = self._error(payload)
                return out
            if not data:
                continue
            try:
                obj = loads(data)
            except ValueError as exc:
                self.events_received += len(out)
                self.error = self._invalid("is not valid JSON", exc, data)
                return out
            if type(obj) is not dict:
                self.events_received += len(out)
                self.error = self._invalid(
                    f"is JSON but not an object (a {type(obj).__name__})", None, data
                )
                return out
            if obj.get("error") or obj.get("type") == "error":
                self.events_received += len(out)
                self.error = self._error(obj)
                return out
            m = _new(make)  # the parsed dict becomes the object: no copy, no __init__ call
            m.__dict__ = obj
            out.append(m)
        self.events_received += len(out)
        return out

    def _error(self, payload: Any) -> R9SError:
        return stream_error(
            payload,
            self._status,
            self._headers,
            secrets=self._secrets,
            events_received=self.events_received,
        )


#: After ``[DONE]`` the drivers read on for at most this many bytes and seconds, so the
#: connection's end (the chunked terminator) is consumed and the connection can be reused;
#: past either bound the connection is dropped instead.  The terminator normally travels in
#: the same packet as ``[DONE]``, so the time bound is rarely touched.
DRAIN_MAX_BYTES = 64 * 1024
DRAIN_SECONDS = 0.1


def decoder_for(call: Call, status: int, headers: Headers) -> StreamDecoder:
    """The decoder for a streamed 2XX answer to ``call``."""
    return StreamDecoder(
        call.op.event, status, headers, max_event_size=call.max_event_size, secrets=call.secrets
    )
