"""Body bytes of a streamed answer in; typed events out.  No I/O.

Pipeline per ``feed``: content decoding (gzip) -> ``SSEDecoder`` -> one ``json.loads`` per
event -> the operation's lazy event object.  Two dialects of server-sent events share it.

``"openai"`` (chat, completions, responses):

- ``data: [DONE]`` ends the stream at once (``done`` becomes true); anything after it is
  ignored, even if the server keeps the connection open;
- an ``event: error``, a Responses ``{"type": "error"}`` event, or a payload holding a non-null
  ``"error"`` ends the stream with the matching error (``r9s._core.classify.stream_error``).

``"anthropic"`` (the Messages API; https://docs.anthropic.com/en/api/messages-streaming):

- an event's type is its data's ``"type"``; only when the data has none is the ``event:``
  line's name used (and written into the data, so ``event.type`` reads it).  When both are
  present and disagree, the data wins: the published SDK does the same (it decodes the data
  alone, by its ``type``, and never looks at the ``event:`` line);
- ``message_stop`` is handed out and ends the stream at once, like ``[DONE]``; an EOF without
  it is a clean end too (a cut inside the body is the transport's ``IncompleteResponseError``);
- ``ping`` is a keep-alive: skipped, never handed out, not counted in ``events_received``
  (as the ``anthropic`` package does; the published r9s SDK handed it out, but code that
  checks ``chunk.TYPE`` loses nothing);
- a ``{"type": "error", "error": {"type": "overloaded_error", "message": ...}}`` event (or an
  ``event: error`` whose data names no type) ends the stream with the class its
  ``error.type`` names: ``overloaded_error`` -> ``ServiceUnavailableError`` (status 529,
  retryable), ``rate_limit_error`` -> ``RateLimitError``, ... (``classify._TYPE_STATUS``);
- any other type, known or not, is handed out as the one event class: a type a newer server
  adds cannot break old code.

Both dialects:

- an event whose data is empty or only whitespace carries nothing and is skipped (keep-alives),
  except an ``event: error``, which raises whatever its data;
- an event that is not a JSON object, or not valid UTF-8, is a ``ResponseValidationError``.

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

__all__ = [
    "ANTHROPIC",
    "DIALECTS",
    "DRAIN_MAX_BYTES",
    "DRAIN_SECONDS",
    "OPENAI",
    "StreamDecoder",
    "decoder_for",
    "dialect_of",
]

#: The stream dialects (see the module docstring).
OPENAI = "openai"
ANTHROPIC = "anthropic"
DIALECTS = frozenset({OPENAI, ANTHROPIC})


def dialect_of(event_class: type[Model]) -> str:
    """The dialect a stream of ``event_class`` events speaks when no one said otherwise:
    ``"anthropic"`` for ``MessageStreamEvent`` (and subclasses), else ``"openai"``."""
    from r9s.models.messages import MessageStreamEvent

    return ANTHROPIC if issubclass(event_class, MessageStreamEvent) else OPENAI


class StreamDecoder:
    """Decode one streamed answer (status 2XX already checked).

    Attributes:
        done: the stream's end was seen (``[DONE]``, ``message_stop``); stop reading.
        error: the error that ended the stream, to raise after the returned events.
        events_received: events returned so far.
        dialect: ``"openai"`` or ``"anthropic"``.
    """

    __slots__ = (
        "_content",
        "_decode",
        "_headers",
        "_make",
        "_secrets",
        "_sse",
        "_status",
        "dialect",
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
        dialect: str | None = None,
    ) -> None:
        """
        Args:
            make: the class of one decoded event, e.g. ``ChatCompletionChunk``; the parsed
                dict becomes the object (no copy, no ``__init__`` call).
            status, headers: the answer's, for error messages (and ``Content-Encoding``).
            max_event_size: largest event accepted, in bytes.
            secrets: strings (the API key) never to quote in an error.
            dialect: ``"openai"`` or ``"anthropic"`` (see the module docstring); ``None``
                picks it from ``make`` (``dialect_of``).

        Raises:
            ValueError: an unknown dialect.
        """
        if dialect is None:
            dialect = dialect_of(make)
        elif dialect not in DIALECTS:
            raise ValueError(f"unknown stream dialect {dialect!r} (one of {sorted(DIALECTS)})")
        self.dialect = dialect
        self._decode = self._decode_anthropic if dialect == ANTHROPIC else self._decode_openai
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

    def _decode_openai(self, events: list[ServerSentEvent | str]) -> list[Any]:
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
                if data.isspace():  # carries nothing: a keep-alive
                    continue
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

    def _decode_anthropic(self, events: list[ServerSentEvent | str]) -> list[Any]:
        out: list[Any] = []
        make = self._make
        for ev in events:
            if isinstance(ev, str):  # a plain event: data only, no ``event:`` line
                data = ev
                kind = None
            else:
                data = ev.data
                kind = ev.event
            try:
                obj = loads(data)
            except ValueError as exc:
                if kind == "error":
                    self.events_received += len(out)
                    self.error = self._error(data)
                    return out
                if not data or data.isspace():  # carries nothing: a keep-alive
                    continue
                if data == "[DONE]":  # a gateway that adds OpenAI's end marker
                    self.done = True
                    break
                self.events_received += len(out)
                self.error = self._invalid("is not valid JSON", exc, data)
                return out
            if type(obj) is not dict:
                self.events_received += len(out)
                if kind == "error":
                    self.error = self._error(obj)
                else:
                    self.error = self._invalid(
                        f"is JSON but not an object (a {type(obj).__name__})", None, data
                    )
                return out
            kind_of_data = obj.get("type")
            if kind_of_data is None:
                if kind == "error" or obj.get("error"):
                    self.events_received += len(out)
                    self.error = self._error(obj)
                    return out
                if kind is not None and kind != "message":
                    obj["type"] = kind_of_data = kind
            elif kind_of_data == "error":
                self.events_received += len(out)
                self.error = self._error(obj)
                return out
            if kind_of_data == "ping":
                continue
            m = _new(make)
            m.__dict__ = obj
            out.append(m)
            if kind_of_data == "message_stop":
                self.done = True
                break
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


def decoder_for(
    call: Call, status: int, headers: Headers, *, dialect: str | None = None
) -> StreamDecoder:
    """The decoder for a streamed 2XX answer to ``call``.

    The dialect is ``dialect`` if given, else the operation's ``dialect`` field if it has one
    that is not ``None``, else the one its event class implies (``dialect_of``).
    """
    event = call.op.event
    assert event is not None, "only operations with an event class take stream=True"
    if dialect is None:
        dialect = getattr(call.op, "dialect", None)
    return StreamDecoder(
        event,
        status,
        headers,
        max_event_size=call.max_event_size,
        secrets=call.secrets,
        dialect=dialect,
    )
