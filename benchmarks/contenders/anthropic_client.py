"""Contender: the ``anthropic`` package (latest from PyPI), in its own venv.

Only the Messages stream (g): ``Anthropic`` / ``AsyncAnthropic`` with default settings
(httpx underneath, as openai), pointed at the bench server's root (the library posts to
``{base_url}/v1/messages``).  ``client.messages.create(..., stream=True)`` is iterated and
``event.delta.text`` read for every ``content_block_delta`` event; ``asyncio`` and ``trio``
run the async client (httpx runs under both).
"""

from __future__ import annotations

import sys
from time import perf_counter
from typing import Any

import _common
import _payloads
from _common import API_KEY, MESSAGES, Result, result

_CLAUDE = _payloads.CLAUDE_MODEL
_BLOCK_DELTA = "content_block_delta"


def messages_sync(url: str, size: float) -> Result:
    from anthropic import Anthropic

    with Anthropic(api_key=API_KEY, base_url=url) as c:
        for _ in c.messages.create(model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True):
            pass  # warm-up: connection open, lazy imports done
        t0 = perf_counter()
        count = chars = 0
        for ev in c.messages.create(
            model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
        ):
            if ev.type == _BLOCK_DELTA:
                count += 1
                chars += len(ev.delta.text)
        return result(perf_counter() - t0, count, chars)


def _messages_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        from anthropic import AsyncAnthropic

        async def go() -> Result:
            async with AsyncAnthropic(api_key=API_KEY, base_url=url) as c:
                s = await c.messages.create(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.messages.create(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
                )
                async for ev in s:
                    if ev.type == _BLOCK_DELTA:
                        count += 1
                        chars += len(ev.delta.text)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


TABLE = {
    "messages.sync": messages_sync,
    "messages.asyncio": _messages_async("asyncio"),
    "messages.trio": _messages_async("trio"),
}

if __name__ == "__main__":
    sys.exit(
        _common.main(TABLE, {"speech": "not an Anthropic API", "upload": "not an Anthropic API"})
    )
