"""The async driver: the sync driver's loop, awaited (asyncio or trio, through anyio).

It is the one twin in r9s: keep it line for line with ``_sync_driver.py``.  Cancellation is
never caught here: a cancelled attempt closes its response (shielded, in the transport) and
the cancellation propagates.
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
from r9s.binary import BinaryResponseAsync
from r9s.errors import R9SError
from r9s.models._base import Model
from r9s.streaming import EventStreamAsync
from r9s.transports.base import AsyncTransport

__all__ = ["execute_async"]


async def execute_async(
    transport: AsyncTransport, call: Call, log: logging.Logger, hooks: Hooks | None = None
) -> Any:
    """Run ``call`` to its result (an object, or an ``EventStreamAsync``), retrying as told.

    Raises:
        R9SError: the final attempt's error.
    """
    import anyio

    life = Lifecycle.of(call, hooks, log, time.monotonic())
    while True:
        try:
            return await _attempt(transport, call, life)
        except R9SError as err:
            await anyio.sleep(
                life.retry_or_raise(err, time.monotonic(), time.time(), random.random())
            )


async def _attempt(transport: AsyncTransport, call: Call, life: Lifecycle) -> Any:
    request, timeout = life.begin(time.monotonic())
    try:
        response = await transport.handle_async_request(request, timeout)
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
            stream: EventStreamAsync[Any] = EventStreamAsync(
                response, decoder_for(call, status, headers), info, clock
            )
            await stream._fill()  # up to the first event: a failure before it is retried
            stream._life = life
            return stream
        if call.op.answer == "binary" and is_binary(status, headers):
            return BinaryResponseAsync(response, info, clock)  # read as the caller iterates it
        content = ContentDecoder(headers.get("content-encoding"))
        parts = []
        since = time.monotonic()
        while chunk := await response.read_chunk(
            None if clock is None else clock.read_timeout(time.monotonic(), since, 0)
        ):
            parts.append(content.feed(chunk))
        parts.append(content.end())
    except BaseException:
        await response.aclose()
        raise
    await response.aclose()
    op = call.op
    body = b"".join(parts)
    result = finish(
        status, headers, body, op.result, request=request, secrets=call.secrets, answer=op.answer
    )
    if isinstance(result, Model):  # not the plain dicts of ``proxy.request``
        result._info = info
    return result
