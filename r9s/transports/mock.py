"""A transport that calls your function instead of the network, for testing code that uses r9s.

    def handler(request: Request) -> MockResponse:
        assert json.loads(request.body)["model"] == "m"
        return MockResponse.json({"id": "x", "choices": [...]})

    client = R9S(api_key="k", client=MockTransport(handler))

The same object serves the sync and the async client (``async_client=``); ``handler`` may be
a coroutine function for async use.  Everything after the transport (decoding, errors,
retries, streams) runs for real.

A streamed request body (a multipart upload: ``StreamedBody``) reaches the handler, and
``requests``, already read whole: ``request.body`` is then ``bytes``, exactly what a real
transport would have sent without framing (files read to their end, counted against the
declared length; a source that fails raises ``BodyReadError`` before the handler is called).
The handler never has to know whether a body was streamed, and can parse a multipart body as
it would arrive.  (A mock holds the whole body in memory, which a real transport never does.)
"""

from __future__ import annotations

import inspect
import json as _json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Union

from r9s._core.headers import Headers, HeadersLike
from r9s._core.request import Request, Timeout, body_bytes, is_streamed

__all__ = ["MockResponse", "MockTransport"]


class MockResponse:
    """A canned answer.  ``content`` may be bytes or an iterable of byte pieces (one per read)."""

    def __init__(
        self,
        status_code: int = 200,
        headers: HeadersLike | None = None,
        content: bytes | Iterable[bytes] = b"",
    ) -> None:
        self.status_code = status_code
        self.headers = Headers(headers)
        pieces = [content] if isinstance(content, bytes) else list(content)
        self._pieces = [p for p in pieces if p]
        self.closed = False

    @classmethod
    def json(
        cls, obj: Any, status_code: int = 200, headers: HeadersLike | None = None
    ) -> MockResponse:
        hdrs = Headers({"content-type": "application/json"}).merged(headers)
        return cls(status_code, hdrs, _json.dumps(obj).encode())

    @classmethod
    def sse(
        cls,
        events: Iterable[Any],
        *,
        done: bool = True,
        status_code: int = 200,
        headers: HeadersLike | None = None,
    ) -> MockResponse:
        """A ``text/event-stream`` answer: one ``data:`` event per item (dicts become JSON)."""
        pieces = [
            b"data: "
            + (
                e
                if isinstance(e, bytes)
                else (e if isinstance(e, str) else _json.dumps(e)).encode()
            )
            + b"\n\n"
            for e in events
        ]
        if done:
            pieces.append(b"data: [DONE]\n\n")
        hdrs = Headers({"content-type": "text/event-stream"}).merged(headers)
        return cls(status_code, hdrs, pieces)

    def read_chunk(self, timeout: float | None = None) -> bytes:
        if self.closed or not self._pieces:
            return b""
        return self._pieces.pop(0)

    def close(self) -> None:
        self.closed = True


class _AsyncMockResponse:
    def __init__(self, inner: MockResponse) -> None:
        self._inner = inner
        self.status_code = inner.status_code
        self.headers = inner.headers

    async def read_chunk(self, timeout: float | None = None) -> bytes:
        return self._inner.read_chunk(timeout)

    async def aclose(self) -> None:
        self._inner.close()


Handler = Callable[[Request], Union[MockResponse, Awaitable[MockResponse]]]


class MockTransport:
    """Answers every request by calling ``handler(request)``; records the requests it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []

    def handle_request(self, request: Request, timeout: Timeout) -> MockResponse:
        request = _read_whole(request)
        self.requests.append(request)
        result = self.handler(request)
        if inspect.isawaitable(result):
            raise TypeError("MockTransport: an async handler cannot serve the sync client")
        return result

    async def handle_async_request(self, request: Request, timeout: Timeout) -> _AsyncMockResponse:
        request = _read_whole(request)
        self.requests.append(request)
        result = self.handler(request)
        if inspect.isawaitable(result):
            result = await result
        return _AsyncMockResponse(result)

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _read_whole(request: Request) -> Request:
    """``request`` with a streamed body read into ``bytes`` (checked against its length)."""
    if is_streamed(request.body):
        return request._replace(body=body_bytes(request.body))
    return request
