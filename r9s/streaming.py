"""Event streams: what ``create(..., stream=True)`` returns.

``EventStream`` (sync) and ``EventStreamAsync`` are the only I/O around a ``StreamDecoder``:
read a piece, feed it, hand out the events.  They are iterators, context managers and
closeable; the connection is released when the stream is exhausted, fails, is closed, or
(sync) is dropped after a ``break`` without ``with``: nothing else refers to the stream, so
dropping it closes it at once rather than when the garbage collector runs.

After the stream's end (``[DONE]``, or ``message_stop`` on a messages stream) the rest of the
body is drained (bounded by ``DRAIN_MAX_BYTES`` and ``DRAIN_SECONDS``) so the connection
returns to the pool.

Helpers, the same for every operation: ``text_deltas()`` yields just the text as it arrives;
``get_final()`` reads the rest of the stream and returns the whole answer (a
``ChatCompletion`` with every choice and tool call assembled, a ``Completion``, the final
``Response``, or a ``Message`` with its content blocks and tool inputs assembled), built by the
core's accumulators.  They may be combined (text first, then the final object) but not mixed
with plain iteration, which would hide events from them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from time import monotonic as _now
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from r9s._core.accumulate import Accumulator, accumulator_for, text_of
from r9s._core.meta import RateLimits, ResponseInfo
from r9s._core.stream import DRAIN_MAX_BYTES, DRAIN_SECONDS, StreamDecoder
from r9s.errors import R9SError

if TYPE_CHECKING:
    from r9s._core.lifecycle import Lifecycle, StreamClock
    from r9s.transports.base import AsyncResponse, SyncResponse

__all__ = ["EventStream", "EventStreamAsync"]

T = TypeVar("T")


class _StreamBase(Generic[T]):
    __slots__ = (
        "_acc",
        "_clock",
        "_closed",
        "_decoder",
        "_eof",
        "_items",
        "_life",
        "_pos",
        "headers",
        "response",
        "status_code",
    )

    def __init__(
        self, info: ResponseInfo, decoder: StreamDecoder, clock: StreamClock | None
    ) -> None:
        #: Status, headers, request id and rate limits of the response carrying the stream.
        self.response = info
        self.status_code = info.status_code
        self.headers = info.headers
        self._decoder = decoder
        self._clock = clock
        self._life: Lifecycle | None = None  # set once the first event arrived
        self._items: list[T] = []
        self._pos = 0
        self._eof = False
        self._closed = False
        self._acc: Accumulator | None = None

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for this call."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimits:
        """The parsed ``x-ratelimit-*`` headers of the response."""
        return self.response.rate_limits

    def _failed(self, err: BaseException) -> None:
        life = self._life
        if life is not None and isinstance(err, R9SError):
            life.failed(err, None)

    def _timeout(self, since: float) -> float | None:
        """The next read's timeout under the call's limits (a clock is set)."""
        clock = self._clock
        assert clock is not None
        return clock.read_timeout(_now(), since, self._decoder.events_received)

    def _explain(self, exc: BaseException, since: float) -> BaseException:
        """The error to raise for a failed read (a call limit's, when one caused it), with
        ``events_received`` set: the events that were delivered before it."""
        clock = self._clock
        err = exc if clock is None else clock.explain(exc, _now(), since, self.events_received)
        if isinstance(err, R9SError) and err.events_received is None:
            err.events_received = self._decoder.events_received
        return err

    @property
    def events_received(self) -> int:
        return self._decoder.events_received

    def _accumulator(self) -> Accumulator:
        acc = self._acc
        if acc is None:
            handed_out = self._decoder.events_received - (len(self._items) - self._pos)
            if handed_out:
                raise RuntimeError(
                    f"{handed_out} events were already read from this stream: call "
                    "text_deltas() or get_final() before iterating it yourself"
                )
            acc = self._acc = accumulator_for(self._decoder.event_class)
        return acc

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.status_code} {state}, {self.events_received} events>"


class EventStream(_StreamBase[T]):
    """A sync stream of events: ``for event in stream``, ``with stream:``, ``stream.close()``."""

    __slots__ = ("_response",)

    def __init__(
        self,
        response: SyncResponse,
        decoder: StreamDecoder,
        info: ResponseInfo | None = None,
        clock: StreamClock | None = None,
    ) -> None:
        if info is None:
            info = ResponseInfo(response.status_code, response.headers)
        super().__init__(info, decoder, clock)
        self._response = response

    def __iter__(self) -> EventStream[T]:
        return self

    def __next__(self) -> T:
        items = self._items
        pos = self._pos
        if pos < len(items):
            self._pos = pos + 1
            return items[pos]
        if self._fill():
            self._pos = 1
            return self._items[0]
        raise StopIteration

    def _fill(self) -> bool:
        """Read until events are buffered (``True``) or the stream is over (``False``).

        Raises:
            R9SError: the stream's error (after the events before it were handed out), a
                transport failure, or one of the call's limits.
        """
        dec = self._decoder
        read = self._response.read_chunk
        clock = self._clock
        since = 0.0 if clock is None else _now()
        while True:
            if dec.error is not None:
                self.close()
                self._failed(dec.error)
                raise dec.error
            if dec.done:
                self._drain()
                return False
            if self._eof or self._closed:
                self.close()
                return False
            try:
                chunk = read() if clock is None else read(self._timeout(since))
            except BaseException as exc:
                self.close()
                err = self._explain(exc, since)
                self._failed(err)
                if err is not exc:
                    raise err from exc
                raise
            if chunk:
                items = dec.feed(chunk)
            else:
                self._eof = True
                items = dec.end()
            if items:
                self._items = items
                self._pos = 0
                return True

    def text_deltas(self) -> Iterator[str]:
        """Just the text, as it arrives (chat and completions: choice 0; responses:
        ``response.output_text.delta``; messages: ``text_delta``).  ``get_final()`` may
        follow."""
        acc = self._accumulator()
        for event in self:
            acc.feed(event)
            text = text_of(event)
            if text:
                yield text

    def get_final(self) -> Any:
        """Read the rest of the stream; the whole answer as one object.

        Raises:
            R9SError: the stream's own error, or (responses) ``response.failed`` /
                ``response.incomplete`` / no ``response.completed``, or (messages) a
                ``ResponseValidationError`` for a tool input that is not a JSON object.
            RuntimeError: events were already read by plain iteration.
        """
        acc = self._accumulator()
        for event in self:
            acc.feed(event)
        return acc.result()

    def _drain(self) -> None:
        if self._closed:
            return
        budget = DRAIN_MAX_BYTES
        try:
            while budget > 0:
                chunk = self._response.read_chunk(DRAIN_SECONDS)
                if not chunk:
                    break
                budget -= len(chunk)
        except (R9SError, OSError):
            pass
        self.close()

    def close(self) -> None:
        """Release the connection (reused only if the body was read to its end)."""
        self._items = []  # events read ahead are not handed out after close
        if not self._closed:
            self._closed = True
            self._response.close()

    def __enter__(self) -> EventStream[T]:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:
                pass


class EventStreamAsync(_StreamBase[T]):
    """An async stream: ``async for event in stream``, ``async with``, ``await stream.aclose()``.

    Close it (``async with`` or ``aclose``) or exhaust it.  If it is dropped unclosed (a
    ``break`` out of ``async for`` without ``async with``), its destructor cannot await, so it
    aborts the connection synchronously when the transport offers ``abort()`` (the built-in
    one does).  A cancelled read closes the connection before the cancellation propagates.
    """

    __slots__ = ("_response",)

    def __init__(
        self,
        response: AsyncResponse,
        decoder: StreamDecoder,
        info: ResponseInfo | None = None,
        clock: StreamClock | None = None,
    ) -> None:
        if info is None:
            info = ResponseInfo(response.status_code, response.headers)
        super().__init__(info, decoder, clock)
        self._response = response

    def __aiter__(self) -> EventStreamAsync[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        pos = self._pos
        if pos < len(items):
            self._pos = pos + 1
            return items[pos]
        if await self._fill():
            self._pos = 1
            return self._items[0]
        raise StopAsyncIteration

    async def _fill(self) -> bool:
        """Read until events are buffered (``True``) or the stream is over (``False``)."""
        dec = self._decoder
        read = self._response.read_chunk
        clock = self._clock
        since = 0.0 if clock is None else _now()
        while True:
            if dec.error is not None:
                await self.aclose()
                self._failed(dec.error)
                raise dec.error
            if dec.done:
                await self._drain()
                return False
            if self._eof or self._closed:
                await self.aclose()
                return False
            try:
                chunk = await (read() if clock is None else read(self._timeout(since)))
            except BaseException as exc:
                await self.aclose()
                err = self._explain(exc, since)
                self._failed(err)
                if err is not exc:
                    raise err from exc
                raise
            if chunk:
                items = dec.feed(chunk)
            else:
                self._eof = True
                items = dec.end()
            if items:
                self._items = items
                self._pos = 0
                return True

    async def text_deltas(self) -> AsyncIterator[str]:
        """Just the text, as it arrives; ``await get_final()`` may follow."""
        acc = self._accumulator()
        async for event in self:
            acc.feed(event)
            text = text_of(event)
            if text:
                yield text

    async def get_final(self) -> Any:
        """Read the rest of the stream; the whole answer as one object (see ``EventStream``)."""
        acc = self._accumulator()
        async for event in self:
            acc.feed(event)
        return acc.result()

    async def _drain(self) -> None:
        if self._closed:
            return
        budget = DRAIN_MAX_BYTES
        try:
            while budget > 0:
                chunk = await self._response.read_chunk(DRAIN_SECONDS)
                if not chunk:
                    break
                budget -= len(chunk)
        except (R9SError, OSError):
            pass
        await self.aclose()

    async def aclose(self) -> None:
        """Release the connection (reused only if the body was read to its end)."""
        self._items = []  # events read ahead are not handed out after close
        if not self._closed:
            self._closed = True
            await self._response.aclose()

    async def __aenter__(self) -> EventStreamAsync[T]:
        return self

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            abort = getattr(self._response, "abort", None)
            if abort is not None:
                try:
                    abort()
                except Exception:
                    pass

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
