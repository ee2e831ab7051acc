"""The transport protocols: what the drivers need from an HTTP stack, and nothing else.

A transport takes a fully built ``Request`` and a ``Timeout`` and returns a response whose body
it hands over piece by piece, as the network delivers it, with the transfer coding (chunked,
Content-Length) removed but the content coding (gzip, deflate) kept: decoding is the core's job.

``request.body`` is ``bytes`` or a ``StreamedBody`` (``r9s._core.request``): a transport sends
the latter through ``checked_pieces`` (``Content-Length`` when ``body.length`` is known, else
chunked), never holds it whole, and never sends it a second time itself unless
``body.rewindable``.  A failure of the body's source is ``BodyReadError``, raised as it is
after the connection was closed.

Errors are translated at the edge, into the public classes of ``r9s.errors``:

- nothing usable arrived (refused, reset, DNS, TLS failure, bad status line): ``NoResponseError``;
- a connect / read / write / pool timeout: ``RequestTimeoutError``;
- the body ended before its declared end: ``IncompleteResponseError``.

A response may have an ``int`` attribute ``read_size``, the most bytes one read asks of the
network (64 KiB in the shipped transports); a reader of a large binary body raises it
(``r9s.binary``).  Without one, reads are the transport's own size.

A response must be closed.  Closing releases the connection to the pool only when the body was
read to its very end; otherwise the connection is dropped, never handed to the next request.
``close`` is idempotent.  The drivers always close, including on error and cancellation.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from r9s._core.headers import Headers
from r9s._core.request import Request, Timeout

__all__ = ["AsyncResponse", "AsyncTransport", "SyncResponse", "SyncTransport"]


@runtime_checkable
class SyncResponse(Protocol):
    status_code: int
    headers: Headers

    def read_chunk(self, timeout: float | None = None) -> bytes:
        """The next piece of the body; ``b""`` once it ended cleanly.

        Args:
            timeout: seconds to wait for bytes this time, instead of the request's read timeout.

        Raises:
            IncompleteResponseError: the connection ended before the body's declared end.
            RequestTimeoutError: no bytes within the read timeout.
            NoResponseError: the connection failed otherwise.
        """
        ...

    def close(self) -> None:
        """Release the connection (kept only if the body was read to its end). Idempotent."""
        ...


@runtime_checkable
class SyncTransport(Protocol):
    def handle_request(self, request: Request, timeout: Timeout) -> SyncResponse:
        """Send ``request`` and return once the status line and headers arrived."""
        ...

    def close(self) -> None:
        """Close every pooled connection."""
        ...


@runtime_checkable
class AsyncResponse(Protocol):
    status_code: int
    headers: Headers

    async def read_chunk(self, timeout: float | None = None) -> bytes:
        """As ``SyncResponse.read_chunk``, awaited."""
        ...

    async def aclose(self) -> None:
        """As ``SyncResponse.close``; must complete even when the caller is being cancelled."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    async def handle_async_request(self, request: Request, timeout: Timeout) -> AsyncResponse:
        """Send ``request`` and return once the status line and headers arrived."""
        ...

    async def aclose(self) -> None:
        """Close every pooled connection."""
        ...
