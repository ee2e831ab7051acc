"""The r9s protocol core, public: build the exact request, decode the answer, with any HTTP stack.

Everything r9s knows about the API is here, with no I/O, so you can drive it with the HTTP
client you already have (requests, httpx, aiohttp, a test harness)::

    from r9s import protocol

    req = protocol.build_request("chat.create", api_key=KEY, model="m",
                                 messages=[{"role": "user", "content": "Hi"}])
    # send req.method, req.url, req.headers, req.body with your client, then:
    res = protocol.parse_response("chat.create", status, headers, body)   # or raises R9SError

    # streamed: req = protocol.build_request(..., stream=True)
    dec = protocol.stream_decoder("chat.create", status, headers)
    for piece in body_pieces:          # raw bytes as they arrive
        for chunk in dec.feed(piece):  # ChatCompletionChunk objects
            ...
        if dec.error: raise dec.error
        if dec.done: break             # [DONE]
    dec.end()                           # at a clean end of body

and ask ``protocol.retry_delay(...)`` whether and how long to wait after a failure (or let a
``Lifecycle`` run the whole attempt loop's decisions: hooks, logs, limits, retries, as r9s's
own drivers do).  ``rate_limits_of(headers)`` parses the ``x-ratelimit-*`` headers.
Operations: every entry of ``OPERATIONS`` (``"chat.create"``, ``"messages.create"``,
``"models.retrieve"``, ``"audio.transcribe"`` ...).  An upload's ``req.body`` is a
``StreamedBody`` (a ``MultipartBody``): send ``req.body.pieces()`` (``req.body.length`` bytes,
or chunked when ``None``), or ``body_bytes(req.body)`` to hold it whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from r9s._core.api import OPERATIONS
from r9s._core.classify import error_for_status, finish
from r9s._core.decoding import ACCEPT_ENCODING, ContentDecoder
from r9s._core.headers import Headers, HeadersLike
from r9s._core.lifecycle import Hooks, Lifecycle, Limits, RequestContext, StreamClock
from r9s._core.meta import RateLimits, ResponseInfo, parse_duration, rate_limits_of
from r9s._core.multipart import FilePart, MultipartBody
from r9s._core.operations import (
    DEFAULT_SERVER_URL,
    NOT_GIVEN,
    Call,
    ClientConfig,
    NotGiven,
    Operation,
    prepare,
)
from r9s._core.request import (
    DEFAULT_TIMEOUT,
    RawResponse,
    Request,
    StreamedBody,
    Timeout,
    body_bytes,
    checked_pieces,
)
from r9s._core.retry import RETRY_STATUSES, parse_retry_after, retry_delay
from r9s._core.sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder
from r9s._core.stream import StreamDecoder
from r9s.utils.retries import DEFAULT_RETRY_CONFIG, RetryConfig

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_RETRY_CONFIG",
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "OPERATIONS",
    "RETRY_STATUSES",
    "Call",
    "ContentDecoder",
    "FilePart",
    "Headers",
    "Hooks",
    "Lifecycle",
    "Limits",
    "MultipartBody",
    "NotGiven",
    "Operation",
    "RateLimits",
    "RawResponse",
    "Request",
    "RequestContext",
    "ResponseInfo",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamClock",
    "StreamDecoder",
    "StreamedBody",
    "Timeout",
    "body_bytes",
    "build_call",
    "build_request",
    "checked_pieces",
    "error_for_status",
    "parse_duration",
    "parse_response",
    "parse_retry_after",
    "rate_limits_of",
    "retry_delay",
    "stream_decoder",
]


def _op(operation: str | Operation[Any]) -> Operation[Any]:
    if isinstance(operation, Operation):
        return operation
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise ValueError(
            f"unknown operation {operation!r}; one of {', '.join(sorted(OPERATIONS))}"
        ) from None


def build_call(
    operation: str | Operation[Any],
    *,
    api_key: str,
    server_url: str = DEFAULT_SERVER_URL,
    retries: RetryConfig | None = DEFAULT_RETRY_CONFIG,
    timeout_ms: int | float | None = None,
    http_headers: HeadersLike | None = None,
    extra_body: Mapping[str, Any] | None = None,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    **params: Any,
) -> Call:
    """The prepared ``Call`` (request, timeout, retry config) for ``operation(**params)``."""
    config = ClientConfig(
        api_key=api_key,
        server_url=server_url,
        retry_config=retries,
        timeout_ms=timeout_ms,
        max_event_size=max_event_size,
    )
    return prepare(_op(operation), params, config, http_headers=http_headers, extra_body=extra_body)


def build_request(operation: str | Operation[Any], *, api_key: str, **kwargs: Any) -> Request:
    """The exact HTTP request (method, URL, headers, body bytes) for ``operation(**kwargs)``.

    Raises:
        TypeError, ValueError: a missing or ill-typed parameter.
    """
    return build_call(operation, api_key=api_key, **kwargs).request


def parse_response(
    operation: str | Operation[Any], status: int, headers: HeadersLike, body: bytes
) -> Any:
    """The result object of a complete, non-streamed answer (body already decompressed).

    Raises:
        R9SError: the status's error class, or ``ResponseValidationError``.
    """
    op = _op(operation)
    return finish(status, Headers(headers), body, op.result, answer=op.answer)


def stream_decoder(
    operation: str | Operation[Any],
    status: int,
    headers: HeadersLike,
    *,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> StreamDecoder:
    """A decoder for a streamed 2XX answer; feed it raw body bytes (gzip is handled)."""
    op = _op(operation)
    if op.event is None:
        raise ValueError(f"{op.name} does not stream")
    return StreamDecoder(op.event, status, Headers(headers), max_event_size=max_event_size)
