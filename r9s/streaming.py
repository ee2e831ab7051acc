"""Event streams: what ``create(..., stream=True)`` returns.

``EventStream`` (sync) and ``EventStreamAsync`` are the only I/O around a ``StreamDecoder``:
read a piece, feed it, hand out the events.  They are iterators, context managers and
closeable; the connection is released when the stream is exhausted, fails, is closed, or
(sync) is dropped after a ``break`` without ``with``: nothing else refers to the stream, so
dropping it closes it at once rather than when the garbage collector runs.

After ``[DONE]`` the rest of the body is drained (bounded by ``DRAIN_MAX_BYTES`` and
``DRAIN_SECONDS``) so the connection returns to the pool.

Helpers, the same for every operation: ``text_deltas()`` yields just the text as it arrives;
``get_final()`` reads the rest of the stream and returns the whole answer (a
``ChatCompletion`` with every choice and tool call assembled, a ``Completion``, or the final
``Response``), built by the core's accumulators.  They may be combined (text first, then the
final object) but not mixed with plain iteration, which would hide events from them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from r9s._core.accumulate import Accumulator, accumulator_for, text_of
from r9s._core.headers import Headers
from r9s._core.stream import DRAIN_MAX_BYTES, DRAIN_SECONDS, StreamDecoder
from r9s.errors import R9SError

if TYPE_CHECKING:
    from r9s.transports.base import AsyncResponse, SyncResponse

__all__ = ["EventStream", "EventStreamAsync"]

T = TypeVar("T")


class _StreamBase(Generic[T]):
    __slots__ = (
        "_acc",
        "_closed",
        "_decoder",
        "_eof",
        "_items",
        "_pos",
        "headers",
        "status_code",
    )

    def __init__(self, status_code: int, headers: Headers, decoder: StreamDecoder) -> None:
        self.status_code = status_code
        self.headers = headers
        self._decoder = decoder
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

    def _take(self, items: list[T]) -> T:
        self._items = items
        self._pos = 1
        return items[0]

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.status_code} {state}, {self.events_received} events>"


class EventStream(_StreamBase[T]):
    """A sync stream of events: ``for event in stream``, ``with stream:``, ``stream.close()``."""

    __slots__ = ("_response",)

    def __init__(self, response: SyncResponse, decoder: StreamDecoder) -> None:
        super().__init__(response.status_code, response.headers, decoder)
        self._response = response

    def __iter__(self) -> EventStream[T]:
        return self

    def __next__(self) -> T:
        items = self._items
        pos = self._pos
        if pos < len(items):
            self._pos = pos + 1
            return items[pos]
        return self._read()

    def _read(self) -> T:
        dec = self._decoder
        read = self._response.read_chunk
        while True:
            if dec.error is not None:
                self.close()
                raise dec.error
            if dec.done:
                self._drain()
                raise StopIteration
            if self._eof or self._closed:
                self.close()
                raise StopIteration
            try:
                chunk = read()
            except BaseException:
                self.close()
                raise
            if chunk:
                items = dec.feed(chunk)
            else:
                self._eof = True
                items = dec.end()
            if items:
                return self._take(items)

    def text_deltas(self) -> Iterator[str]:
        """Just the text, as it arrives (chat and completions: choice 0; responses:
        ``response.output_text.delta``).  ``get_final()`` may follow."""
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
                ``response.incomplete`` / no ``response.completed``.
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

    def __init__(self, response: AsyncResponse, decoder: StreamDecoder) -> None:
        super().__init__(response.status_code, response.headers, decoder)
        self._response = response

    def __aiter__(self) -> EventStreamAsync[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        pos = self._pos
        if pos < len(items):
            self._pos = pos + 1
            return items[pos]
        return await self._read()

    async def _read(self) -> T:
        dec = self._decoder
        read = self._response.read_chunk
        while True:
            if dec.error is not None:
                await self.aclose()
                raise dec.error
            if dec.done:
                await self._drain()
                raise StopAsyncIteration
            if self._eof or self._closed:
                await self.aclose()
                raise StopAsyncIteration
            try:
                chunk = await read()
            except BaseException:
                await self.aclose()
                raise
            if chunk:
                items = dec.feed(chunk)
            else:
                self._eof = True
                items = dec.end()
            if items:
                return self._take(items)

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
