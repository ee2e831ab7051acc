"""The sync driver: send, read, sleep.  Every decision is the core's (``r9s._core.lifecycle``).

The async driver (``_async_driver.py``) is this loop's only twin, line for line, awaited.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from r9s._core.classify import finish, is_binary, is_event_stream
from r9s._core.decoding import ContentDecoder
from r9s._core.lifecycle import Hooks, Lifecycle, no_response
from r9s._core.operations import Call
from r9s._core.stream import decoder_for
from r9s.binary import BinaryResponse
from r9s.errors import R9SError
from r9s.models._base import Model
from r9s.streaming import EventStream
from r9s.transports.base import SyncTransport

__all__ = ["execute"]


def execute(
    transport: SyncTransport, call: Call, log: logging.Logger, hooks: Hooks | None = None
) -> Any:
    """Run ``call`` to its result (an object, or an ``EventStream``), retrying as the core says.

    Raises:
        R9SError: the final attempt's error.
    """
    life = Lifecycle.of(call, hooks, log, time.monotonic())
    while True:
        try:
            return _attempt(transport, call, life)
        except R9SError as err:
            time.sleep(life.retry_or_raise(err, time.monotonic(), time.time(), random.random()))


def _attempt(transport: SyncTransport, call: Call, life: Lifecycle) -> Any:
    request, timeout = life.begin(time.monotonic())
    try:
        response = transport.handle_request(request, timeout)
    except R9SError:
        raise
    except OSError as exc:  # a user-supplied transport that did not translate its errors
        raise no_response(exc, request) from exc
    status = response.status_code
    headers = response.headers
    clock = life.clock()
    try:
        info = life.responded(status, headers, time.monotonic())
        if call.stream and is_event_stream(status, headers):
            stream: EventStream[Any] = EventStream(
                response, decoder_for(call, status, headers), info, clock
            )
            stream._fill()  # up to the first event: a failure before it is retried
            stream._life = life
            return stream
        if call.op.answer == "binary" and is_binary(status, headers):
            return BinaryResponse(response, info, clock)  # read as the caller iterates it
        content = ContentDecoder(headers.get("content-encoding"))
        parts = []
        since = time.monotonic()
        while chunk := response.read_chunk(
            None if clock is None else clock.read_timeout(time.monotonic(), since, 0)
        ):
            parts.append(content.feed(chunk))
        parts.append(content.end())
    except BaseException:
        response.close()
        raise
    response.close()
    op = call.op
    body = b"".join(parts)
    result = finish(
        status, headers, body, op.result, request=request, secrets=call.secrets, answer=op.answer
    )
    if isinstance(result, Model):  # not the plain dicts of ``proxy.request``
        result._info = info
    return result
