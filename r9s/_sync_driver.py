"""The sync driver: send, feed, decide, sleep.  Every decision is the core's.

The async driver (``_async_driver.py``) is this loop's only twin, line for line, awaited.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from r9s._core.classify import finish, is_event_stream
from r9s._core.decoding import ContentDecoder
from r9s._core.operations import Call
from r9s._core.retry import retry_delay
from r9s._core.stream import decoder_for
from r9s.errors import NoResponseError, R9SError
from r9s.streaming import EventStream
from r9s.transports.base import SyncTransport

__all__ = ["execute"]


def execute(transport: SyncTransport, call: Call, log: logging.Logger) -> Any:
    """Run ``call`` to its result (an object, or an ``EventStream``), retrying as the core says.

    Raises:
        R9SError: the final attempt's error.
    """
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return _attempt(transport, call, attempt, log)
        except R9SError as err:
            elapsed = time.monotonic() - start
            delay = retry_delay(
                call.retry,
                err,
                attempt=attempt,
                elapsed=elapsed,
                now=time.time(),
                rand=random.random(),
            )
            if delay is None:
                raise
            log.info(
                "%s: retrying in %.2f s after attempt %d failed: %s",
                call.op.name,
                delay,
                attempt,
                type(err).__name__,
            )
            time.sleep(delay)


def _attempt(transport: SyncTransport, call: Call, attempt: int, log: logging.Logger) -> Any:
    request = call.request
    t0 = time.monotonic()
    try:
        response = transport.handle_request(request, call.timeout)
    except R9SError:
        raise
    except OSError as exc:  # a user-supplied transport that did not translate its errors
        raise NoResponseError(f"{request.method} {request.url} failed: {exc!r}") from exc
    status = response.status_code
    headers = response.headers
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
            request.method,
            request.url,
            status,
            (time.monotonic() - t0) * 1000,
            attempt,
            headers.get("x-request-id"),
        )
    if call.stream and is_event_stream(status, headers):
        try:
            decoder = decoder_for(call, status, headers)
        except BaseException:
            response.close()
            raise
        return EventStream(response, decoder)
    try:
        content = ContentDecoder(headers.get("content-encoding"))
        parts = []
        while chunk := response.read_chunk():
            parts.append(content.feed(chunk))
        parts.append(content.end())
    finally:
        response.close()
    return finish(
        status, headers, b"".join(parts), call.op.result, request=request, secrets=call.secrets
    )
