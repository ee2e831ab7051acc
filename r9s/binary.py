"""Binary answers: what ``audio.speech(...)`` returns.

The published SDK returned its ``httpx.Response``; code written for it reads ``.read()``,
``.content``, ``.iter_bytes()``, ``.headers``, ``.status_code`` and closes it, or uses
``with``.  ``BinaryResponse`` (sync) and ``BinaryResponseAsync`` offer the same, plus
``stream_to_file(path)``, over the transport's body: iterating never holds the body in
memory, a body cut short raises ``IncompleteResponseError``, and the connection is released
when the body is exhausted, fails, is closed, or (``break``) when the iterator is dropped.
Content codings (gzip, deflate) are decoded as the bytes flow.

An error status never reaches here: the driver raises it, as for every operation.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from time import monotonic as _now
from types import TracebackType
from typing import TYPE_CHECKING, Any

from r9s._core.decoding import ContentDecoder
from r9s._core.meta import RateLimits, ResponseInfo

if TYPE_CHECKING:
    from r9s._core.lifecycle import StreamClock
    from r9s.transports.base import AsyncResponse, SyncResponse

__all__ = ["BINARY_READ_SIZE", "BinaryResponse", "BinaryResponseAsync"]


#: Bytes asked per network read of a binary body (when the transport lets a reader say so:
#: ``read_size``).  Not the 64 KiB that suits event streams: 256 KiB reads make a 100 MB download
#: cost a quarter of the reads, each an event-loop pass and a cancel scope (benchmarks (h),
#: interleaved: asyncio 1.5 -> 3.4 GB/s, trio 1.7 -> 4.0 GB/s); an event stream read that size
#: costs 8-17 % of its rate, so the transports keep 64 KiB by default.
BINARY_READ_SIZE = 256 * 1024


def _larger_reads(raw: Any) -> None:
    if isinstance(getattr(raw, "read_size", None), int):
        raw.read_size = max(raw.read_size, BINARY_READ_SIZE)


class _BinaryBase:
    __slots__ = (
        "_clock",
        "_closed",
        "_content",
        "_decoder",
        "_pieces",
        "headers",
        "response",
        "status_code",
    )

    def __init__(self, info: ResponseInfo, clock: StreamClock | None) -> None:
        #: Status, headers, request id and rate limits of the answer.
        self.response = info
        self.status_code = info.status_code
        self.headers = info.headers
        self._clock = clock
        self._decoder = ContentDecoder(info.headers.get("content-encoding"), max_output=None)
        self._content: bytes | None = None
        self._closed = False
        self._pieces = 0

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for this call."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimits:
        return self.response.rate_limits

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def is_closed(self) -> bool:
        return self._closed

    def _timeout(self, since: float) -> float | None:
        clock = self._clock
        return None if clock is None else clock.read_timeout(_now(), since, self._pieces)

    def _explain(self, exc: BaseException, since: float) -> BaseException:
        clock = self._clock
        return exc if clock is None else clock.explain(exc, _now(), since, self._pieces)

    @staticmethod
    def _sized(
        pieces: list[bytes], chunk_size: int | None, final: bool
    ) -> tuple[list[bytes], bytes]:
        """Re-cut ``pieces`` into ``chunk_size`` pieces; returns them and the remainder."""
        if chunk_size is None:  # the common case: no copy
            return [p for p in pieces if p], b""
        data = b"".join(pieces)
        cut = len(data) - len(data) % chunk_size
        out = [data[i : i + chunk_size] for i in range(0, cut, chunk_size)]
        rest = data[cut:]
        if final and rest:
            out.append(rest)
            rest = b""
        return out, rest

    def _cut(self, raw: bytes, rest: bytes, chunk_size: int | None) -> tuple[list[bytes], bytes]:
        """The pieces to hand out for one network read (``b""``: the end) and what is kept."""
        if raw:
            self._pieces += 1
            return self._sized([rest, self._decoder.feed(raw)], chunk_size, False)
        return self._sized([rest, self._decoder.end()], chunk_size, True)

    def _failed(self, exc: BaseException, since: float) -> BaseException:
        """The error to raise for a failed read: a call limit's, when one caused it."""
        err = self._explain(exc, since)
        if err is not exc:
            err.__cause__ = exc
        return err

    @property
    def content(self) -> bytes:
        """The whole body (``read()`` / ``await aread()`` first, for an async response)."""
        if self._content is None:
            raise RuntimeError("the body was not read: call read() (or await aread()) first")
        return self._content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.status_code} {self.content_type!r} {state}>"


def _check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is not None and (isinstance(chunk_size, bool) or chunk_size <= 0):
        raise ValueError(f"chunk_size must be a positive number of bytes, got {chunk_size!r}")


class BinaryResponse(_BinaryBase):
    """A binary answer read as it arrives: ``iter_bytes()``, ``read()``, ``stream_to_file()``."""

    __slots__ = ("_raw",)

    def __init__(
        self, raw: SyncResponse, info: ResponseInfo, clock: StreamClock | None = None
    ) -> None:
        super().__init__(info, clock)
        self._raw = raw
        _larger_reads(raw)

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body's bytes as they arrive (``chunk_size``: in pieces of that size, the last
        one shorter).  Once read, iterates the kept content.

        Raises:
            IncompleteResponseError: the body ended before its declared end.
            RequestTimeoutError: no bytes within the timeout (or a call limit passed).
        """
        _check_chunk_size(chunk_size)
        if self._content is not None:
            yield from self._sized([self._content], chunk_size, True)[0]
            return
        if self._closed:
            raise RuntimeError("the response is closed: its body can no longer be read")
        rest, raw = b"", b"-"
        try:
            while raw:
                since = _now()
                try:
                    raw = self._raw.read_chunk(self._timeout(since))
                except BaseException as exc:
                    raise self._failed(exc, since)  # noqa: B904 (the cause is set there)
                out, rest = self._cut(raw, rest, chunk_size)
                yield from out
        finally:
            self.close()

    def read(self) -> bytes:
        """The whole body (kept: ``content`` and later reads return it)."""
        if self._content is None:
            self._content = b"".join(self.iter_bytes())
        return self._content

    def stream_to_file(self, path: str | os.PathLike[str], chunk_size: int | None = None) -> int:
        """Write the body to ``path`` as it arrives; returns the number of bytes written.

        A failed download leaves the partial file and raises.
        """
        written = 0
        with open(path, "wb") as out:
            for piece in self.iter_bytes(chunk_size):
                out.write(piece)
                written += len(piece)
        return written

    def close(self) -> None:
        """Release the connection (kept for reuse only if the body was read to its end)."""
        if not self._closed:
            self._closed = True
            self._raw.close()

    def __enter__(self) -> BinaryResponse:
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


class BinaryResponseAsync(_BinaryBase):
    """The async twin: ``aiter_bytes()``, ``await aread()``, ``astream_to_file()``, ``async
    with``.  A cancelled read closes the connection before the cancellation propagates."""

    __slots__ = ("_raw",)

    def __init__(
        self, raw: AsyncResponse, info: ResponseInfo, clock: StreamClock | None = None
    ) -> None:
        super().__init__(info, clock)
        self._raw = raw
        _larger_reads(raw)

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """As ``BinaryResponse.iter_bytes``, awaited."""
        _check_chunk_size(chunk_size)
        if self._content is not None:
            for piece in self._sized([self._content], chunk_size, True)[0]:
                yield piece
            return
        if self._closed:
            raise RuntimeError("the response is closed: its body can no longer be read")
        rest, raw = b"", b"-"
        try:
            while raw:
                since = _now()
                try:
                    raw = await self._raw.read_chunk(self._timeout(since))
                except BaseException as exc:
                    raise self._failed(exc, since)  # noqa: B904 (the cause is set there)
                out, rest = self._cut(raw, rest, chunk_size)
                for piece in out:
                    yield piece
        finally:
            await self.aclose()

    async def aread(self) -> bytes:
        """The whole body (kept: ``content`` and later reads return it)."""
        if self._content is None:
            self._content = b"".join([piece async for piece in self.aiter_bytes()])
        return self._content

    async def astream_to_file(
        self, path: str | os.PathLike[str], chunk_size: int | None = None
    ) -> int:
        """Write the body to ``path`` as it arrives; returns the number of bytes written.

        Each piece is written with a plain (blocking) file write of at most one network read
        (64 KiB), which costs microseconds beside the read itself.
        """
        written = 0
        with open(path, "wb") as out:
            async for piece in self.aiter_bytes(chunk_size):
                out.write(piece)
                written += len(piece)
        return written

    async def aclose(self) -> None:
        """Release the connection (kept for reuse only if the body was read to its end)."""
        if not self._closed:
            self._closed = True
            await self._raw.aclose()

    async def __aenter__(self) -> BinaryResponseAsync:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            abort = getattr(self._raw, "abort", None)
            if abort is not None:
                try:
                    abort()
                except Exception:
                    pass
