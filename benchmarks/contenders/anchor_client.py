"""Contender: the published anchor ``r9s==0.9.0`` (httpx + pydantic), in its own venv.

Run with no ``PYTHONPATH`` and a working directory outside the repository, so this process
imports the installed 0.9.0 and never the repository's ``r9s``.

Variants: ``sync`` and ``asyncio`` / ``trio`` (``chat.create_async``; httpx runs under both),
default clients.  Parse-only uses the anchor's own stream pipeline,
``r9s.utils.eventstreaming.stream_events`` over an object whose ``iter_bytes()`` yields the
64 KiB pieces:

- ``typed``: with the decoder ``chat.create(stream=True)`` passes, ``lambda raw:
  unmarshal_json(raw, models.CreateChatCompletionResponseBody).data`` (pydantic objects);
- ``untyped``: with ``json.loads`` as the decoder (the anchor's framing and its own
  ``json.loads`` of the payload still run; only the pydantic model is skipped).
"""

from __future__ import annotations

import json
import sys
from time import perf_counter
from typing import Any

import _common
import _payloads
from _common import API_KEY, MESSAGES, MODEL, PROMPT, Result, result


def _check_origin() -> None:
    import r9s

    if "site-packages" not in (r9s.__file__ or "") or r9s.VERSION != "0.9.0":
        raise SystemExit(f"expected the installed r9s 0.9.0, got {r9s.__file__}")


def _client(url: str) -> Any:
    from r9s import R9S

    return R9S(api_key=API_KEY, server_url=url + "/v1")


def chat_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.chat.create(model=MODEL, messages=MESSAGES, stream=True, max_tokens=2):
            pass
        t0 = perf_counter()
        count = chars = 0
        for chunk in c.chat.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
        ):
            content = chunk.choices[0].delta.content
            count += 1
            if content:
                chars += len(content)
        return result(perf_counter() - t0, count, chars)


def _chat_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.chat.create_async(
                    model=MODEL, messages=MESSAGES, stream=True, max_tokens=2
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.chat.create_async(
                    model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
                )
                async for chunk in s:
                    content = chunk.choices[0].delta.content
                    count += 1
                    if content:
                        chars += len(content)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


_DELTA = "response.output_text.delta"


def responses_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.responses.create(model=MODEL, input=PROMPT, stream=True, max_output_tokens=1):
            pass
        t0 = perf_counter()
        count = chars = 0
        for ev in c.responses.create(
            model=MODEL, input=PROMPT, stream=True, max_output_tokens=int(size)
        ):
            if ev.type == _DELTA:
                count += 1
                chars += len(ev.delta)
        return result(perf_counter() - t0, count, chars)


def _responses_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.responses.create_async(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=1
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.responses.create_async(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=int(size)
                )
                async for ev in s:
                    if ev.type == _DELTA:
                        count += 1
                        chars += len(ev.delta)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


_CLAUDE = _payloads.CLAUDE_MODEL
_BLOCK_DELTA = "content_block_delta"


def _event_type(chunk: Any) -> Any:
    # As the published package's example/messages.py reads it (its models spell it TYPE).
    return getattr(chunk, "TYPE", getattr(chunk, "type", None))


def messages_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.messages.create(model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True):
            pass
        t0 = perf_counter()
        count = chars = 0
        for chunk in c.messages.create(
            model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
        ):
            if _event_type(chunk) == _BLOCK_DELTA:
                count += 1
                chars += len(chunk.delta.text)
        return result(perf_counter() - t0, count, chars)


def _messages_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.messages.create_async(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.messages.create_async(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
                )
                async for chunk in s:
                    if _event_type(chunk) == _BLOCK_DELTA:
                        count += 1
                        chars += len(chunk.delta.text)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


class _Pieces:
    """Stands in for the ``httpx.Response`` the anchor's ``stream_events`` reads."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def iter_bytes(self) -> Any:
        return iter(self.pieces)


def _parse(typed: bool) -> Any:
    def run(url: str, size: float) -> Result:
        from r9s import models
        from r9s.utils import eventstreaming, unmarshal_json

        pieces = _payloads.parse_corpus(size)
        body = models.CreateChatCompletionResponseBody
        t0 = perf_counter()
        count = chars = 0
        if typed:
            for chunk in eventstreaming.stream_events(
                _Pieces(pieces),  # type: ignore[arg-type]
                lambda raw: unmarshal_json(raw, body).data,
                sentinel="[DONE]",
            ):
                content = chunk.choices[0].delta.content
                count += 1
                if content:
                    chars += len(content)
        else:
            for ev in eventstreaming.stream_events(
                _Pieces(pieces),  # type: ignore[arg-type]
                json.loads,
                sentinel="[DONE]",
            ):
                content = ev["data"]["choices"][0]["delta"].get("content")
                count += 1
                if content:
                    chars += len(content)
        return result(perf_counter() - t0, count, chars, sum(map(len, pieces)))

    return run


def _check(res: Any) -> bool:
    return bool(res.choices[0].message.content == _payloads.COMPLETION_CONTENT)


def seq_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        c.chat.create(model=MODEL, messages=MESSAGES)
        t0 = perf_counter()
        ok = 0
        for _ in range(int(size)):
            ok += _check(c.chat.create(model=MODEL, messages=MESSAGES))
        return result(perf_counter() - t0, ok)


def _seq_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                await c.chat.create_async(model=MODEL, messages=MESSAGES)
                t0 = perf_counter()
                ok = 0
                for _ in range(int(size)):
                    ok += _check(await c.chat.create_async(model=MODEL, messages=MESSAGES))
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


def _conc_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                await c.chat.create_async(model=MODEL, messages=MESSAGES)

                async def one() -> bool:
                    return _check(await c.chat.create_async(model=MODEL, messages=MESSAGES))

                t0 = perf_counter()
                ok = await _common.concurrently(one, int(size), _common.CONCURRENCY)
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


def rss_sync(url: str, size: float) -> Result:
    from r9s import R9S

    t0 = perf_counter()
    count = chars = 0
    with R9S(api_key=API_KEY, server_url=url + "/v1") as c:
        for chunk in c.chat.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
        ):
            content = chunk.choices[0].delta.content
            count += 1
            chars += len(content or "")
    return result(perf_counter() - t0, count, chars)


TABLE = {
    "chat.sync": chat_sync,
    "chat.asyncio": _chat_async("asyncio"),
    "chat.trio": _chat_async("trio"),
    "responses.sync": responses_sync,
    "responses.asyncio": _responses_async("asyncio"),
    "responses.trio": _responses_async("trio"),
    "parse.typed": _parse(True),
    "parse.untyped": _parse(False),
    "seq.sync": seq_sync,
    "seq.asyncio": _seq_async("asyncio"),
    "seq.trio": _seq_async("trio"),
    "conc.asyncio": _conc_async("asyncio"),
    "conc.trio": _conc_async("trio"),
    "rss.sync": rss_sync,
    "messages.sync": messages_sync,
    "messages.asyncio": _messages_async("asyncio"),
    "messages.trio": _messages_async("trio"),
}

if __name__ == "__main__":
    _check_origin()
    sys.exit(_common.main(TABLE))
